//! Docker's configuration on disk and in the environment: where it is, and its exact format.
//! Nothing here talks to a registry or a credential helper.

pub mod docker_config;
pub mod go_json;
mod lock;
pub mod registries_conf;

pub use docker_config::{AuthEntry, DockerConfig};

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Every environment variable hoist depends on, read once and in this one place, so that
/// everything else is testable without touching the process environment.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    pub docker_config: Option<PathBuf>,
    /// A whole config.json in a variable, layered over the file (CI with no file at all).
    pub docker_auth_config: Option<String>,
    pub home: Option<PathBuf>,
    /// podman/skopeo's auth file, a fallback source for pull and push.
    pub registry_auth_file: Option<PathBuf>,
    pub xdg_runtime_dir: Option<PathBuf>,
    /// Where `docker-credential-*` helpers are looked up.
    pub path: Option<OsString>,
    /// The image store's directory (`HOIST_STORE`).
    pub hoist_store: Option<PathBuf>,
    pub xdg_data_home: Option<PathBuf>,
    /// The test suite's factor for every timeout (`HOIST_TEST_TIMEOUT_SCALE`).
    pub timeout_scale: Option<String>,
    /// containers' registries.conf (mirrors): `CONTAINERS_REGISTRIES_CONF`, `XDG_CONFIG_HOME`.
    pub containers_registries_conf: Option<PathBuf>,
    pub xdg_config_home: Option<PathBuf>,
}

impl Environment {
    pub fn from_process() -> Environment {
        Environment::from_vars(|name| std::env::var_os(name))
    }

    /// Docker's rule for every path variable (`DOCKER_CONFIG` in docker/cli's `config.Dir`):
    /// an empty value counts as unset, never as the current directory.
    pub fn from_vars(var: impl Fn(&str) -> Option<OsString>) -> Environment {
        let path = |name| var(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        let text = |name| var(name).and_then(|v| v.into_string().ok());
        Environment {
            docker_config: path("DOCKER_CONFIG"),
            docker_auth_config: text("DOCKER_AUTH_CONFIG").filter(|v| !v.trim().is_empty()),
            home: path("HOME"),
            registry_auth_file: path("REGISTRY_AUTH_FILE"),
            xdg_runtime_dir: path("XDG_RUNTIME_DIR"),
            path: var("PATH"),
            hoist_store: path("HOIST_STORE"),
            xdg_data_home: path("XDG_DATA_HOME"),
            timeout_scale: text(crate::registry::timeouts::SCALE_ENV),
            containers_registries_conf: path("CONTAINERS_REGISTRIES_CONF"),
            xdg_config_home: path("XDG_CONFIG_HOME"),
        }
    }

    /// podman's auth.json: `REGISTRY_AUTH_FILE`, else `$XDG_RUNTIME_DIR/containers/auth.json`.
    pub fn podman_auth_file(&self) -> Option<PathBuf> {
        self.registry_auth_file.clone().or_else(|| {
            self.xdg_runtime_dir
                .as_ref()
                .map(|d| d.join("containers/auth.json"))
        })
    }
}

/// Which setting chose the config directory, for messages that tell the user what to change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigDirSource {
    Flag,
    DockerConfigEnv,
    Home,
}

#[derive(Debug, Clone)]
pub struct ConfigDir {
    pub path: PathBuf,
    pub source: ConfigDirSource,
}

/// `--config DIR` > `DOCKER_CONFIG` > `$HOME/.docker`; HOME is needed only for the last.
pub fn resolve_config_dir(flag: Option<&Path>, env: &Environment) -> anyhow::Result<ConfigDir> {
    let (path, source) = if let Some(dir) = flag {
        (dir.to_path_buf(), ConfigDirSource::Flag)
    } else if let Some(dir) = &env.docker_config {
        (dir.clone(), ConfigDirSource::DockerConfigEnv)
    } else if let Some(home) = &env.home {
        (home.join(".docker"), ConfigDirSource::Home)
    } else {
        anyhow::bail!(
            "cannot find Docker's config directory: HOME is not set; set DOCKER_CONFIG to a directory (or pass --config DIR)"
        );
    };
    Ok(ConfigDir { path, source })
}

/// The local store: `--store` > `HOIST_STORE` > `$XDG_DATA_HOME/hoist` > `$HOME/.local/share/hoist`.
pub fn store_dir(flag: Option<&Path>, env: &Environment) -> Option<PathBuf> {
    flag.map(Path::to_path_buf)
        .or_else(|| env.hoist_store.clone())
        .or_else(|| env.xdg_data_home.as_ref().map(|d| d.join("hoist")))
        .or_else(|| env.home.as_ref().map(|h| h.join(".local/share/hoist")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An empty variable is unset for every path, as Docker reads `DOCKER_CONFIG`: an empty
    /// one once made certificates come from `./certs.d` while config.json came from HOME.
    #[test]
    fn empty_variables_count_as_unset() {
        let env = Environment::from_vars(|name| match name {
            "HOME" => Some("/home/u".into()),
            "DOCKER_AUTH_CONFIG" => Some(" ".into()),
            _ => Some(OsString::new()),
        });
        assert_eq!(env.docker_config, None);
        assert_eq!(env.docker_auth_config, None);
        assert_eq!(env.hoist_store, None);
        assert_eq!(env.xdg_data_home, None);
        let dir = resolve_config_dir(None, &env).unwrap();
        assert_eq!(dir.path, PathBuf::from("/home/u/.docker"));
        assert_eq!(
            store_dir(None, &env),
            Some(PathBuf::from("/home/u/.local/share/hoist"))
        );
    }

    #[test]
    fn config_dir_precedence_and_missing_home() {
        let env = Environment {
            docker_config: Some("/env".into()),
            home: Some("/home/u".into()),
            ..Default::default()
        };
        assert_eq!(
            resolve_config_dir(Some(Path::new("/flag")), &env)
                .unwrap()
                .path,
            PathBuf::from("/flag")
        );
        assert_eq!(
            resolve_config_dir(None, &env).unwrap().source,
            ConfigDirSource::DockerConfigEnv
        );
        let home_only = Environment {
            home: Some("/home/u".into()),
            ..Default::default()
        };
        assert_eq!(
            resolve_config_dir(None, &home_only).unwrap().path,
            PathBuf::from("/home/u/.docker")
        );
        let err = resolve_config_dir(None, &Environment::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("DOCKER_CONFIG"), "{err}");
    }
}
