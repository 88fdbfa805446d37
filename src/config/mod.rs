//! Docker's configuration on disk and in the environment: where it is, and its exact format.
//! Nothing here talks to a registry or a credential helper.

pub mod docker_config;
pub mod go_json;
mod lock;

pub use docker_config::{AuthEntry, DockerConfig};

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The environment variables hoist's configuration depends on, read once, so that everything
/// below is testable without touching the process environment.
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
}

impl Environment {
    pub fn from_process() -> Environment {
        let path = |name| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        Environment {
            docker_config: path("DOCKER_CONFIG"),
            docker_auth_config: std::env::var("DOCKER_AUTH_CONFIG")
                .ok()
                .filter(|v| !v.trim().is_empty()),
            home: path("HOME"),
            registry_auth_file: path("REGISTRY_AUTH_FILE"),
            xdg_runtime_dir: path("XDG_RUNTIME_DIR"),
            path: std::env::var_os("PATH"),
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

#[cfg(test)]
mod tests {
    use super::*;

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
