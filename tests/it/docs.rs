//! What a newcomer reads before running anything: `--help`, the man pages, shell completion,
//! and the demo script. (That the committed man pages and completions match the command line
//! is a unit test in src/docs.)

use crate::support::tools::{run_ok, stdout, TestEnv};
use std::path::Path;

const COMMANDS: [&str; 9] = [
    "login",
    "logout",
    "pull",
    "push",
    "copy",
    "tag",
    "inspect",
    "tags",
    "completions",
];

fn help(env: &TestEnv, args: &[&str]) -> String {
    stdout(&run_ok(env.hoist().args(args), None))
}

/// The lines of a help section, from its heading to the next blank line.
fn section<'a>(help: &'a str, heading: &str) -> Vec<&'a str> {
    help.lines()
        .skip_while(|l| *l != heading)
        .skip(1)
        .take_while(|l| !l.is_empty())
        .collect()
}

/// Every command's help has the same sections in the same order, and `-h` says exactly what
/// `--help` does (pull's once switched to a long, spaced-out layout and push's did not).
#[test]
fn every_command_help_has_one_layout() {
    let env = TestEnv::new();
    for command in COMMANDS {
        let long = help(&env, &[command, "--help"]);
        assert_eq!(long, help(&env, &[command, "-h"]), "{command}");
        let headings: Vec<&str> = long
            .lines()
            .filter(|l| !l.starts_with(' ') && l.contains(':'))
            .map(|l| l.split(':').next().unwrap())
            .collect();
        assert_eq!(
            headings,
            [
                "Usage",
                "Arguments",
                "Options",
                "Global options",
                "Output",
                "Examples"
            ],
            "{command}:\n{long}"
        );
        // One line per option: no blank lines inside a section.
        assert!(!long.contains("\n\n  -"), "{command}:\n{long}");
    }
}

#[test]
fn example_comments_line_up() {
    let env = TestEnv::new();
    for command in COMMANDS {
        let long = help(&env, &[command, "--help"]);
        let columns: Vec<usize> = section(&long, "Examples:")
            .iter()
            .filter_map(|l| l.find("  # "))
            .collect();
        assert!(!columns.is_empty(), "{command}:\n{long}");
        assert!(
            columns.iter().all(|c| *c == columns[0]),
            "{command}:\n{long}"
        );
    }
}

/// `--quiet` is global, so each command's Output section says what it leaves on stdout.
#[test]
fn each_command_says_what_quiet_leaves_on_stdout() {
    let env = TestEnv::new();
    for command in COMMANDS {
        let long = help(&env, &[command, "--help"]);
        let output = section(&long, "Output:");
        let stdout_line = output
            .iter()
            .find(|l| l.trim_start().starts_with("stdout"))
            .unwrap_or_else(|| panic!("{command}:\n{long}"));
        assert!(stdout_line.contains("--quiet"), "{command}: {stdout_line}");
    }
    let login = help(&env, &["login", "--help"]);
    assert_eq!(
        section(&login, "Output:"),
        [
            "  stdout  \"Login Succeeded\"; nothing with --quiet (the exit status tells): no digest",
            "  stderr  prompts, warnings, errors",
        ]
    );
}

fn man_page(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("man").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn man_sections(page: &str) -> Vec<&str> {
    page.lines()
        .filter_map(|l| l.strip_prefix(".SH "))
        .map(|h| h.trim_matches('"'))
        .collect()
}

#[test]
fn man_pages_have_every_section_and_the_real_synopsis() {
    for command in COMMANDS {
        let page = man_page(&format!("hoist-{command}.1"));
        let synopsis = page
            .lines()
            .skip_while(|l| *l != ".SH SYNOPSIS")
            .nth(1)
            .unwrap();
        assert!(
            synopsis.starts_with(&format!("\\fBhoist {command}\\fR")),
            "{command}: {synopsis}"
        );
        assert_eq!(
            man_sections(&page),
            [
                "NAME",
                "SYNOPSIS",
                "DESCRIPTION",
                "OPTIONS",
                "GLOBAL OPTIONS",
                "OUTPUT",
                "EXAMPLES",
                "EXIT STATUS",
                "ENVIRONMENT",
                "FILES",
                "SEE ALSO"
            ],
            "{command}"
        );
        for global in ["config", "quiet", "debug", "insecure", "certs\\-dir"] {
            assert!(
                page.contains(&format!("\\fB\\-\\-{global}\\fR")),
                "{command}: {global}"
            );
        }
    }
    let hoist = man_page("hoist.1");
    for section in [
        "COMMANDS",
        "EXIT STATUS",
        "ENVIRONMENT",
        "FILES",
        "SEE ALSO",
    ] {
        assert!(
            man_sections(&hoist).contains(&section),
            "hoist.1: {section}"
        );
    }
    for page in ["hoist.1", "hoist-pull.1"] {
        let page = man_page(page);
        assert!(!page.contains("EXTRA"), "{page}");
        for code in ["0", "1", "2", "129", "130", "143"] {
            assert!(page.contains(&format!(".TP\n\\fB{code}\\fR\n")), "{code}");
        }
        for var in [
            "DOCKER_CONFIG",
            "DOCKER_AUTH_CONFIG",
            "REGISTRY_AUTH_FILE",
            "HOIST_STORE",
            "XDG_DATA_HOME",
            "XDG_RUNTIME_DIR",
            "HOME",
            "SSL_CERT_FILE, SSL_CERT_DIR",
            "HTTPS_PROXY, HTTP_PROXY, NO_PROXY",
        ] {
            assert!(page.contains(&format!(".TP\n\\fB{var}\\fR\n")), "{var}");
        }
    }
}

/// What bash offers after the words typed so far, from the script `hoist completions bash`
/// prints, run in a real bash with `dir` as the working directory.
fn bash_completes(env: &TestEnv, dir: &Path, words: &[&str]) -> Vec<String> {
    let script = stdout(&run_ok(env.hoist().args(["completions", "bash"]), None));
    let hoist_dir = Path::new(env!("CARGO_BIN_EXE_hoist")).parent().unwrap();
    let quoted: Vec<String> = words
        .iter()
        .map(|w| format!("'{}'", w.replace('\'', "'\\''")))
        .collect();
    let driver = format!(
        "{script}\nCOMP_WORDS=({}); COMP_CWORD={}; COMP_LINE=\"${{COMP_WORDS[*]}}\"; COMP_POINT=${{#COMP_LINE}}\n\
         _hoist_with_servers hoist \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        quoted.join(" "),
        words.len() - 1
    );
    let path = format!(
        "{}:{}",
        hoist_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = run_ok(
        env.command("bash")
            .env("PATH", path)
            .current_dir(dir)
            .args(["--norc", "-c", &driver]),
        None,
    );
    let mut offered: Vec<String> = stdout(&out).lines().map(str::to_string).collect();
    offered.retain(|l| !l.is_empty());
    offered.sort();
    offered
}

#[test]
fn completion_offers_platforms_and_paths() {
    let env = TestEnv::new();
    let dir = env.scratch("work");
    std::fs::write(dir.join("image.tar"), "").unwrap();
    std::fs::create_dir(dir.join("layout")).unwrap();

    assert_eq!(
        bash_completes(
            &env,
            &dir,
            &["hoist", "pull", "x", "--platform", "linux/arm"]
        ),
        ["linux/arm/v6", "linux/arm/v7", "linux/arm64"]
    );
    assert!(
        bash_completes(&env, &dir, &["hoist", "pull", "x", "--platform", ""])
            .contains(&"all".to_string())
    );
    for words in [
        &["hoist", "pull", "x", "--output", "i"][..],
        &["hoist", "pull", "x", "--digest-file", "i"],
        &["hoist", "push", "x", "--digest-file", "i"],
        &["hoist", "push", "x", "--from", "i"],
    ] {
        assert_eq!(
            bash_completes(&env, &dir, words),
            ["image.tar"],
            "{words:?}"
        );
    }

    // zsh and fish are not installed here: check their scripts say the same.
    let zsh = stdout(&run_ok(env.hoist().args(["completions", "zsh"]), None));
    let fish = stdout(&run_ok(env.hoist().args(["completions", "fish"]), None));
    for platform in [
        "all",
        "linux/amd64",
        "linux/arm64",
        "linux/arm/v7",
        "linux/s390x",
    ] {
        assert!(zsh.contains(&format!(" {platform}")) || zsh.contains(&format!("({platform}")));
        assert!(fish.contains(platform), "{platform}");
    }
    for flag in ["--output", "--digest-file", "--from"] {
        assert!(
            zsh.lines()
                .any(|l| l.starts_with(&format!("'{flag}=")) && l.ends_with(":_files' \\")),
            "zsh {flag}"
        );
        let long = flag.trim_start_matches("--");
        assert!(
            fish.lines()
                .any(|l| l.contains(&format!(" -l {long} ")) && l.ends_with(" -r -F")),
            "fish {flag}"
        );
    }
}

const CONFIG: &str = r#"{
  "auths": {"https://index.docker.io/v1/": {}, "reg.example.com:5000": {"auth": "dTpw"}},
  "credHelpers": {"123456789.dkr.ecr.eu-west-1.amazonaws.com": "ecr-login"}
}"#;

#[test]
fn completion_offers_the_registries_in_config_json_for_server() {
    let env = TestEnv::new().with_docker_config(CONFIG);
    let listed = stdout(&run_ok(env.hoist().arg("__complete-servers"), None));
    assert_eq!(
        listed,
        "123456789.dkr.ecr.eu-west-1.amazonaws.com\ndocker.io\nreg.example.com:5000\n"
    );
    let dir = env.scratch("work");
    assert_eq!(
        bash_completes(&env, &dir, &["hoist", "logout", "reg"]),
        ["reg.example.com:5000"]
    );
    assert_eq!(
        bash_completes(&env, &dir, &["hoist", "login", "-u", "me", ""]).len(),
        3
    );
    // Once SERVER is there, or for an option's value, it is not offered again.
    assert!(
        !bash_completes(&env, &dir, &["hoist", "login", "reg.example.com:5000", ""])
            .contains(&"docker.io".to_string())
    );

    // --config on the line is the config completion reads.
    let other = env.scratch("other-config");
    std::fs::write(
        other.join("config.json"),
        r#"{"auths": {"other.example": {}}}"#,
    )
    .unwrap();
    let other = other.to_str().unwrap();
    assert_eq!(
        bash_completes(&env, &dir, &["hoist", "--config", other, "login", ""]),
        ["other.example"]
    );
    // A broken config gives nothing, quietly: this runs in the middle of a command line.
    std::fs::write(env.config_json_path(), "{not json").unwrap();
    let out = run_ok(env.hoist().arg("__complete-servers"), None);
    assert!(out.stdout.is_empty() && out.stderr.is_empty());

    // The hidden command is not itself offered.
    let script = stdout(&run_ok(env.hoist().args(["completions", "bash"]), None));
    assert_eq!(script.matches("__complete-servers").count(), 1);
}

/// `scripts/demo` once went quiet for a minute of `cargo build --quiet` on a fresh clone.
#[test]
fn demo_says_it_is_building_before_it_builds() {
    let demo = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/demo"))
        .unwrap();
    let says = demo
        .find("echo \"== building hoist")
        .expect("a line saying so");
    let builds = demo.find("cargo build").unwrap();
    assert!(says < builds);
}
