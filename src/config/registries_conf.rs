//! containers-registries.conf(5), version 2, as podman, buildah and skopeo read it: which
//! mirrors to pull a registry's images through (`[[registry]]` with `prefix`/`location`,
//! `[[registry.mirror]]` with `location`, `insecure`, `pull-from-mirror`), from their lookup
//! order plus the `registries.conf.d/` drop-ins. It reads and matches only: no requests, and
//! the other tables of the file (short-name aliases, search registries) are left alone.

use super::Environment;
use serde::Deserialize;
use std::path::PathBuf;

pub const SYSTEM_FILE: &str = "/etc/containers/registries.conf";
pub const SYSTEM_DROP_INS: &str = "/etc/containers/registries.conf.d";

/// Where the configuration is read from, in order: the main file, then each directory's
/// `*.conf` files sorted by name, a later one replacing an earlier `[[registry]]` of the same
/// prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfPaths {
    pub main: PathBuf,
    pub drop_in_dirs: Vec<PathBuf>,
}

impl ConfPaths {
    /// `$CONTAINERS_REGISTRIES_CONF`, else `$XDG_CONFIG_HOME/containers/registries.conf`
    /// (`~/.config` without it) when it exists, else the system file. The user's drop-in
    /// directory is always read; the system's only when the user's own file is not the
    /// main one (the rule of containers/image's `sysregistriesv2`).
    pub fn from_env(env: &Environment) -> ConfPaths {
        let user_dir = env
            .xdg_config_home
            .clone()
            .or_else(|| env.home.as_ref().map(|h| h.join(".config")))
            .map(|d| d.join("containers"));
        let user_drop_ins = user_dir.as_ref().map(|d| d.join("registries.conf.d"));
        let user_file = user_dir.as_ref().map(|d| d.join("registries.conf"));
        if let Some(main) = &env.containers_registries_conf {
            return ConfPaths {
                main: main.clone(),
                drop_in_dirs: [Some(PathBuf::from(SYSTEM_DROP_INS)), user_drop_ins]
                    .into_iter()
                    .flatten()
                    .collect(),
            };
        }
        if let Some(file) = user_file.filter(|f| f.exists()) {
            return ConfPaths {
                main: file,
                drop_in_dirs: user_drop_ins.into_iter().collect(),
            };
        }
        ConfPaths {
            main: PathBuf::from(SYSTEM_FILE),
            drop_in_dirs: [Some(PathBuf::from(SYSTEM_DROP_INS)), user_drop_ins]
                .into_iter()
                .flatten()
                .collect(),
        }
    }
}

/// Which pulls may use a mirror: by tag, by digest, or both (`pull-from-mirror`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PullFromMirror {
    #[default]
    All,
    DigestOnly,
    TagOnly,
}

impl PullFromMirror {
    fn parse(value: Option<&str>) -> Result<PullFromMirror, String> {
        match value.unwrap_or("") {
            "" | "all" => Ok(PullFromMirror::All),
            "digest-only" => Ok(PullFromMirror::DigestOnly),
            "tag-only" => Ok(PullFromMirror::TagOnly),
            other => Err(format!(
                "pull-from-mirror = {other:?}: expected \"all\", \"digest-only\" or \"tag-only\""
            )),
        }
    }

    fn allows(self, by_digest: bool) -> bool {
        match self {
            PullFromMirror::All => true,
            PullFromMirror::DigestOnly => by_digest,
            PullFromMirror::TagOnly => !by_digest,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct RawFile {
    #[serde(default)]
    registry: Vec<RawRegistry>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawRegistry {
    #[serde(default)]
    prefix: String,
    #[serde(default)]
    location: String,
    #[serde(default)]
    insecure: bool,
    #[serde(default)]
    blocked: bool,
    #[serde(default)]
    mirror_by_digest_only: bool,
    #[serde(default)]
    mirror: Vec<RawMirror>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawMirror {
    #[serde(default)]
    location: String,
    #[serde(default)]
    insecure: bool,
    #[serde(default)]
    pull_from_mirror: Option<String>,
}

/// One `[[registry]]`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryEntry {
    /// What it applies to: `host[:port][/path]`, or `*.domain` for every host below it.
    pub prefix: String,
    /// Where the registry itself is, when it differs from the prefix (a rewrite).
    pub rewritten_to: Option<String>,
    pub insecure: bool,
    pub blocked: bool,
    pub mirrors: Vec<MirrorEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MirrorEntry {
    /// `host[:port][/path]`: the matched prefix of a name is replaced with it.
    pub location: String,
    pub insecure: bool,
    pub pull_from_mirror: PullFromMirror,
}

/// A mirror chosen for one image: the image's name there, and whether it may be plain HTTP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MirrorFor {
    /// `host[:port]/repository`, without tag or digest.
    pub name: String,
    pub insecure: bool,
}

#[derive(Debug, thiserror::Error)]
#[error("{}: {detail}", .path.display())]
pub struct ConfError {
    pub path: PathBuf,
    pub detail: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistriesConf {
    pub registries: Vec<RegistryEntry>,
}

/// Reads the main file and the drop-ins; a missing file or directory is an empty one.
pub fn load(paths: &ConfPaths) -> Result<RegistriesConf, ConfError> {
    let mut conf = RegistriesConf::default();
    let mut files = vec![paths.main.clone()];
    for dir in &paths.drop_in_dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        let mut found: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "conf"))
            .collect();
        found.sort();
        files.extend(found);
    }
    for file in files {
        let text = match std::fs::read_to_string(&file) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                return Err(ConfError {
                    path: file,
                    detail: e.to_string(),
                })
            }
        };
        let entries = parse(&text).map_err(|detail| ConfError {
            path: file.clone(),
            detail,
        })?;
        for entry in entries {
            conf.registries.retain(|r| r.prefix != entry.prefix);
            conf.registries.push(entry);
        }
    }
    Ok(conf)
}

/// The `[[registry]]` tables of one file, checked.
pub fn parse(text: &str) -> Result<Vec<RegistryEntry>, String> {
    let raw: RawFile = toml::from_str(text).map_err(|e| e.message().to_string())?;
    raw.registry.into_iter().map(check_registry).collect()
}

fn check_registry(raw: RawRegistry) -> Result<RegistryEntry, String> {
    let location = check_location(&raw.location, "location", true)?;
    let prefix = match raw.prefix.trim() {
        "" => location.clone(),
        p if p.starts_with("*.") => p.to_string(),
        p => check_location(p, "prefix", false)?,
    };
    if prefix.is_empty() {
        return Err("a [[registry]] needs a prefix or a location".into());
    }
    let mirrors = raw
        .mirror
        .into_iter()
        .map(|m| {
            let pull = PullFromMirror::parse(m.pull_from_mirror.as_deref())?;
            Ok(MirrorEntry {
                location: check_location(&m.location, "mirror location", false)?,
                insecure: m.insecure,
                // The older switch makes every mirror of the registry digest-only.
                pull_from_mirror: match raw.mirror_by_digest_only {
                    true => PullFromMirror::DigestOnly,
                    false => pull,
                },
            })
        })
        .collect::<Result<_, String>>()?;
    let rewritten_to = (!location.is_empty() && location != prefix).then_some(location);
    Ok(RegistryEntry {
        prefix,
        rewritten_to,
        insecure: raw.insecure,
        blocked: raw.blocked,
        mirrors,
    })
}

/// `host[:port][/path]`: no scheme, no trailing slash, no spaces.
fn check_location(value: &str, what: &str, may_be_empty: bool) -> Result<String, String> {
    let value = value.trim().trim_end_matches('/');
    if value.is_empty() && !may_be_empty {
        return Err(format!("{what} is empty"));
    }
    if value.contains("://") || value.chars().any(char::is_whitespace) {
        return Err(format!(
            "{what} {value:?}: expected host[:port][/path], without a scheme"
        ));
    }
    Ok(value.to_string())
}

impl RegistriesConf {
    /// The entry that applies to `name` (`host[:port]/repository`): the longest matching
    /// prefix, as containers/image picks.
    pub fn entry_for(&self, name: &str) -> Option<(&RegistryEntry, usize)> {
        self.registries
            .iter()
            .filter_map(|r| matched_len(name, &r.prefix).map(|n| (r, n)))
            .max_by_key(|(_, n)| *n)
    }

    /// The mirrors to try for `name`, in order, each with the image's name there; `by_digest`
    /// says whether the pull names a digest (for `pull-from-mirror`).
    pub fn mirrors_for(&self, name: &str, by_digest: bool) -> Vec<MirrorFor> {
        let Some((entry, matched)) = self.entry_for(name) else {
            return Vec::new();
        };
        let rest = &name[matched..];
        entry
            .mirrors
            .iter()
            .filter(|m| m.pull_from_mirror.allows(by_digest))
            .map(|m| MirrorFor {
                name: format!("{}{rest}", m.location),
                insecure: m.insecure,
            })
            .collect()
    }
}

/// How much of `name` the prefix matches, or `None`. A plain prefix matches whole components
/// (`example.com/a` matches `example.com/a/b`, not `example.com/ab`); `*.example.com` matches
/// the host of any name below that domain.
fn matched_len(name: &str, prefix: &str) -> Option<usize> {
    if let Some(domain) = prefix.strip_prefix('*') {
        let host = name.split('/').next().unwrap_or(name);
        let bare = host.split(':').next().unwrap_or(host);
        return bare.ends_with(domain).then_some(host.len());
    }
    let rest = name.strip_prefix(prefix)?;
    (rest.is_empty() || rest.starts_with('/')).then_some(prefix.len())
}

#[cfg(test)]
#[path = "registries_conf_tests.rs"]
mod tests;
