//! Which mirrors a pull tries, in order, before the registry itself: `--mirror REGISTRY=MIRROR`
//! for that registry when given (they replace the configured ones), else containers'
//! registries.conf. Resolved while the plan is built; nothing here sends a request.

use crate::config::registries_conf::{self, ConfPaths, MirrorFor, RegistriesConf};
use crate::config::Environment;
use crate::reference::{Reference, Registry};

/// One mirror of the image being pulled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mirror {
    /// The image's reference on the mirror: same tag or digest, the mirror's host and path.
    pub reference: Reference,
    /// `insecure = true` in registries.conf: plain HTTP and unverified TLS, as `--insecure`.
    pub insecure: bool,
}

/// `--mirror REGISTRY=MIRROR` as clap checks it: both sides present, no scheme.
pub fn mirror_arg(arg: &str) -> Result<String, String> {
    let Some((registry, mirror)) = arg.split_once('=') else {
        return Err("expected REGISTRY=MIRROR, e.g. docker.io=mirror.example:5000".into());
    };
    if registry.trim().is_empty() || mirror.trim().is_empty() {
        return Err("expected REGISTRY=MIRROR, both named".into());
    }
    if mirror.contains("://") {
        return Err("name the mirror as host[:port][/path], without a scheme (plain HTTP: --insecure HOST[:PORT])".into());
    }
    Ok(arg.to_string())
}

/// The mirrors for `reference`: the `--mirror` flags naming its registry, else registries.conf's
/// (read only when no flag applies). A registry that registries.conf blocks is refused.
pub fn resolve(
    flags: &[String],
    reference: &Reference,
    env: &Environment,
) -> Result<Vec<Mirror>, String> {
    let rest = format!("/{}", reference.repository());
    let from_flags: Vec<MirrorFor> = flags
        .iter()
        .filter_map(|f| f.split_once('='))
        .filter(|(registry, _)| Registry::from_server_arg(Some(registry)) == *reference.registry())
        .map(|(_, mirror)| MirrorFor {
            name: format!("{}{rest}", mirror.trim_end_matches('/')),
            insecure: false,
        })
        .collect();
    let chosen = if from_flags.is_empty() {
        let conf = load(env)?;
        let name = reference.name();
        if let Some((entry, _)) = conf.entry_for(&name).filter(|(e, _)| e.blocked) {
            return Err(format!(
                "registries.conf blocks {} (prefix {:?})",
                name, entry.prefix
            ));
        }
        // Pulling from the prefix itself would go where the file says not to go.
        if let Some((entry, _)) = conf.entry_for(&name) {
            if let Some(location) = &entry.rewritten_to {
                return Err(format!(
                    "registries.conf sends {:?} to location {location:?}, which hoist does not \
                     do: pull from {location} by name, or make it a [[registry.mirror]] of {:?}",
                    entry.prefix, entry.prefix
                ));
            }
        }
        conf.mirrors_for(&name, reference.digest().is_some())
    } else {
        from_flags
    };
    chosen
        .into_iter()
        .map(|m| {
            let text = with_tag_or_digest(&m.name, reference);
            let parsed = Reference::parse(&text).map_err(|e| format!("mirror {}: {e}", m.name))?;
            // `mirror/path` without a dot, a port or localhost would read as a Docker Hub name.
            let host = m.name.split('/').next().unwrap_or_default();
            if parsed.registry().name() != Registry::new(host).name() {
                return Err(format!(
                    "mirror {}: its host must have a '.' or a port, or be localhost",
                    m.name
                ));
            }
            Ok(Mirror {
                reference: parsed,
                insecure: m.insecure,
            })
        })
        .collect()
}

fn load(env: &Environment) -> Result<RegistriesConf, String> {
    registries_conf::load(&ConfPaths::from_env(env)).map_err(|e| e.to_string())
}

fn with_tag_or_digest(name: &str, reference: &Reference) -> String {
    let mut text = name.to_string();
    if let Some(tag) = reference.tag() {
        text += &format!(":{tag}");
    }
    if let Some(digest) = reference.digest() {
        text += &format!("@{digest}");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_with(conf: &std::path::Path) -> Environment {
        Environment {
            containers_registries_conf: Some(conf.to_path_buf()),
            xdg_config_home: Some(conf.with_file_name("no-such-dir")),
            ..Environment::default()
        }
    }

    #[test]
    fn flags_for_the_registry_replace_the_configured_mirrors() {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("registries.conf");
        std::fs::write(
            &conf,
            "[[registry]]\nprefix = \"docker.io\"\n[[registry.mirror]]\nlocation = \"conf.example\"\ninsecure = true\n",
        )
        .unwrap();
        let alpine = Reference::parse("alpine").unwrap();
        let shown = |m: Vec<Mirror>| {
            m.iter()
                .map(|m| m.reference.to_string())
                .collect::<Vec<_>>()
        };
        let env = env_with(&conf);
        assert_eq!(
            shown(resolve(&[], &alpine, &env).unwrap()),
            ["conf.example/library/alpine:latest"]
        );
        assert!(resolve(&[], &alpine, &env).unwrap()[0].insecure);
        let flags = [
            "index.docker.io=localhost:5001/hub".to_string(),
            "quay.io=q.example".into(),
        ];
        assert_eq!(
            shown(resolve(&flags, &alpine, &env).unwrap()),
            ["localhost:5001/hub/library/alpine:latest"]
        );
        let pinned = Reference::parse(
            "quay.io/a/b@sha256:0000000000000000000000000000000000000000000000000000000000000000",
        )
        .unwrap();
        assert_eq!(
            shown(resolve(&flags, &pinned, &env).unwrap()),
            ["q.example/a/b@sha256:0000000000000000000000000000000000000000000000000000000000000000"]
        );
        let bare = ["docker.io=mirror".to_string()];
        assert!(resolve(&bare, &alpine, &env)
            .unwrap_err()
            .contains("a '.' or a port"));
    }

    #[test]
    fn a_blocked_registry_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("registries.conf");
        std::fs::write(
            &conf,
            "[[registry]]\nprefix = \"bad.example\"\nblocked = true\n",
        )
        .unwrap();
        let reference = Reference::parse("bad.example/a:1").unwrap();
        let err = resolve(&[], &reference, &env_with(&conf)).unwrap_err();
        assert!(err.contains("blocks bad.example/a"), "{err}");
    }

    /// A rewrite of the registry's own location is refused rather than ignored: the pull would
    /// otherwise go to the very host the file sends elsewhere.
    #[test]
    fn a_rewritten_location_is_refused_not_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("registries.conf");
        std::fs::write(
            &conf,
            "[[registry]]\nprefix = \"docker.io\"\nlocation = \"hub.example:5000\"\n\n\
             [[registry]]\nprefix = \"same.example\"\nlocation = \"same.example\"\n",
        )
        .unwrap();
        let hub = Reference::parse("docker.io/library/alpine:3").unwrap();
        let err = resolve(&[], &hub, &env_with(&conf)).unwrap_err();
        assert!(err.contains("to location \"hub.example:5000\""), "{err}");
        assert!(err.contains("[[registry.mirror]]"), "{err}");
        // A location equal to its prefix rewrites nothing.
        let same = Reference::parse("same.example/a:1").unwrap();
        assert!(resolve(&[], &same, &env_with(&conf)).unwrap().is_empty());
    }

    #[test]
    fn the_flag_needs_both_sides_and_no_scheme() {
        assert!(mirror_arg("docker.io=m.example:5000").is_ok());
        for bad in [
            "docker.io",
            "=m.example",
            "docker.io=",
            "docker.io=https://m.example",
        ] {
            assert!(mirror_arg(bad).is_err(), "{bad}");
        }
    }
}
