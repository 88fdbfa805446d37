//! README.md's blocks marked `<!-- runnable -->` run here against a real registry, so the
//! instructions a newcomer copies cannot rot.

use crate::support::images::{push_with_skopeo, ImageSpec};
use crate::support::registry::{Mode, RegistryServer};
use crate::support::tools::{run, TestEnv};

fn runnable_blocks(readme: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut lines = readme.lines();
    while let Some(line) = lines.next() {
        if line.trim() != "<!-- runnable -->" {
            continue;
        }
        let fence = lines.next().unwrap_or_default();
        assert!(
            fence.starts_with("```"),
            "a runnable marker must sit right above a code block"
        );
        let body: Vec<&str> = lines
            .by_ref()
            .take_while(|l| !l.starts_with("```"))
            .collect();
        blocks.push(body.join("\n"));
    }
    blocks
}

#[test]
fn readme_runnable_blocks_work() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let blocks = runnable_blocks(&readme);
    assert!(!blocks.is_empty(), "README has no runnable blocks");
    let user = ("readme-user", "readme-password");
    let registry = RegistryServer::start(Mode::Htpasswd(&[user]));
    push_with_skopeo(
        &ImageSpec::new(21).layers(&[12_000]).build("v1"),
        &format!("{}/team/app:1.0", registry.host()),
        Some(user),
    );
    let hoist_dir = std::path::Path::new(env!("CARGO_BIN_EXE_hoist"))
        .parent()
        .unwrap();
    for block in blocks {
        let env = TestEnv::new().without_credential_helpers();
        let work = env.scratch("work");
        std::fs::create_dir_all(&work).unwrap();
        let mut cmd = env.command("bash");
        let path = format!(
            "{}:{}",
            hoist_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        cmd.current_dir(&work)
            .env("PATH", path)
            .env("REGISTRY", registry.host())
            .env("REGISTRY_USER", user.0)
            .env("REGISTRY_PASSWORD", user.1)
            .args(["-euo", "pipefail", "-c", &block]);
        let out = run(&mut cmd, None);
        assert!(
            out.status.success(),
            "README block failed:\n{block}\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
