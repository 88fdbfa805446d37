//! Docker's `config.json`: loaded with every field kept, saved atomically in Docker's exact bytes.

use super::go_json;
use anyhow::Context;
use base64::Engine;
use serde_json::{Map, Value};
use std::io::Write;
use std::path::{Path, PathBuf};

/// One `auths` entry, decoded.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct AuthEntry {
    pub username: String,
    pub password: String,
    pub identity_token: String,
    pub registry_token: String,
}

impl std::fmt::Debug for AuthEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthEntry")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl AuthEntry {
    /// Docker's empty-entry trap: `"host": {}` (written beside a credential helper) holds no
    /// credential and must never shadow the helper.
    pub fn is_credential(&self) -> bool {
        !self.password.is_empty()
            || !self.identity_token.is_empty()
            || !self.registry_token.is_empty()
    }

    /// Reads `auth` (base64 `user:pass`, split at the first ':'), falling back to the plain
    /// `username`/`password` fields some tools write.
    pub fn from_json(value: &Value) -> anyhow::Result<AuthEntry> {
        let field = |k: &str| {
            value
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let mut entry = AuthEntry {
            username: field("username"),
            password: field("password"),
            identity_token: field("identitytoken"),
            registry_token: field("registrytoken"),
        };
        let auth = field("auth");
        if !auth.is_empty() {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(auth.trim())
                .context("an \"auth\" value is not valid base64")?;
            let decoded = String::from_utf8(decoded).context("an \"auth\" value is not UTF-8")?;
            let (user, pass) = decoded
                .split_once(':')
                .context("an \"auth\" value does not decode to user:password")?;
            entry.username = user.to_string();
            entry.password = pass.to_string();
        }
        Ok(entry)
    }

    fn to_json(&self, email: Option<&Value>) -> Value {
        let mut map = Map::new();
        if !self.username.is_empty() || !self.password.is_empty() {
            let raw = format!("{}:{}", self.username, self.password);
            map.insert(
                "auth".into(),
                base64::engine::general_purpose::STANDARD.encode(raw).into(),
            );
        }
        if let Some(email) = email {
            map.insert("email".into(), email.clone());
        }
        if !self.identity_token.is_empty() {
            map.insert("identitytoken".into(), self.identity_token.clone().into());
        }
        if !self.registry_token.is_empty() {
            map.insert("registrytoken".into(), self.registry_token.clone().into());
        }
        Value::Object(map)
    }
}

#[derive(Debug, Clone)]
pub struct DockerConfig {
    /// Where it is saved: always `DIR/config.json`, even when read from `~/.dockercfg`.
    path: PathBuf,
    /// Where it was read from, for messages (`None`: nothing on disk yet).
    read_from: Option<PathBuf>,
    value: Map<String, Value>,
}

impl DockerConfig {
    /// `DIR/config.json`; when it does not exist, the legacy `~/.dockercfg` as Docker does.
    pub fn load(dir: &Path, home: Option<&Path>) -> anyhow::Result<DockerConfig> {
        let path = dir.join("config.json");
        if let Some(value) = read_json(&path)? {
            return Ok(DockerConfig {
                path: path.clone(),
                read_from: Some(path),
                value: normalize(value),
            });
        }
        if let Some(legacy) = home.map(|h| h.join(".dockercfg")) {
            if let Some(value) = read_json(&legacy)? {
                return Ok(DockerConfig {
                    path,
                    read_from: Some(legacy),
                    value: normalize(value),
                });
            }
        }
        Ok(DockerConfig {
            path,
            read_from: None,
            value: Map::new(),
        })
    }

    /// A config given as text (`DOCKER_AUTH_CONFIG`, podman's auth.json).
    pub fn parse(text: &str, origin: &str) -> anyhow::Result<DockerConfig> {
        let value: Value =
            serde_json::from_str(text).with_context(|| format!("{origin} is not valid JSON"))?;
        let Value::Object(map) = value else {
            anyhow::bail!("{origin} is not a JSON object");
        };
        Ok(DockerConfig {
            path: PathBuf::new(),
            read_from: None,
            value: normalize(map),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn read_from(&self) -> Option<&Path> {
        self.read_from.as_deref()
    }

    pub fn creds_store(&self) -> Option<&str> {
        self.value
            .get("credsStore")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }

    pub fn cred_helpers(&self) -> impl Iterator<Item = (&str, &str)> {
        self.value
            .get("credHelpers")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| v.as_str().map(|v| (k.as_str(), v)))
    }

    pub fn auth_keys(&self) -> Vec<String> {
        self.auths()
            .map(|a| a.keys().cloned().collect())
            .unwrap_or_default()
    }

    pub fn auth(&self, key: &str) -> anyhow::Result<Option<AuthEntry>> {
        match self.auths().and_then(|a| a.get(key)) {
            Some(v) => AuthEntry::from_json(v)
                .map(Some)
                .with_context(|| format!("in the \"auths\" entry {key:?} of {}", self.describe())),
            None => Ok(None),
        }
    }

    /// Replaces an entry. Docker keeps the old `email` only when it re-saves credentials it
    /// read back from the file (`docker login` with nothing given); a login with a username
    /// and password starts a fresh entry without one.
    ///
    /// Returns whether config.json must be written: not when the entry already holds exactly
    /// this credential (it is left as it is), so that logging in again with the same
    /// credentials works where config.json is read-only (a mounted Secret), as with Docker.
    pub fn set_auth(&mut self, key: &str, entry: &AuthEntry, keep_email: bool) -> bool {
        let on_disk = self.read_from.as_deref() == Some(self.path.as_path());
        let same = self
            .auths()
            .and_then(|a| a.get(key))
            .and_then(|v| AuthEntry::from_json(v).ok())
            .is_some_and(|old| old == *entry);
        if same && on_disk {
            return false;
        }
        let auths = self.auths_mut();
        let email = auths
            .get(key)
            .and_then(|v| v.get("email"))
            .filter(|e| keep_email && !go_empty(e))
            .cloned();
        auths.insert(key.to_string(), entry.to_json(email.as_ref()));
        true
    }

    /// Re-reads config.json under the config lock, applies `change` and saves when it says
    /// something changed. Another hoist's login that finished meanwhile is kept: the file is
    /// read again under the lock rather than trusted from when this process started.
    pub fn update<T>(
        &mut self,
        mut change: impl FnMut(&mut DockerConfig) -> (T, bool),
    ) -> anyhow::Result<T> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        if !dir.exists() {
            // Nothing on disk to re-read; only a change needs the directory (and its lock):
            // a logout with nothing to remove must not create it.
            let (result, changed) = change(&mut self.clone());
            if !changed {
                return Ok(result);
            }
            create_private_dir(dir).map_err(|e| not_writable(&self.path, e))?;
        }
        let _lock = super::lock::ConfigLock::acquire(&self.path);
        if let Some(value) = read_json(&self.path)? {
            self.value = normalize(value);
            self.read_from = Some(self.path.clone());
        }
        let (result, changed) = change(self);
        if changed {
            self.save()?;
        }
        Ok(result)
    }

    pub fn remove_auth(&mut self, key: &str) -> bool {
        self.auths_mut().remove(key).is_some()
    }

    fn auths(&self) -> Option<&Map<String, Value>> {
        self.value.get("auths").and_then(Value::as_object)
    }

    fn auths_mut(&mut self) -> &mut Map<String, Value> {
        let auths = self
            .value
            .entry("auths")
            .or_insert_with(|| Value::Object(Map::new()));
        if !auths.is_object() {
            *auths = Value::Object(Map::new());
        }
        auths.as_object_mut().expect("just made an object")
    }

    fn describe(&self) -> String {
        self.read_from
            .as_deref()
            .unwrap_or(&self.path)
            .display()
            .to_string()
    }

    /// The bytes Docker would write for this config.
    pub fn to_docker_bytes(&self) -> anyhow::Result<String> {
        let mut value = self.value.clone();
        if let Some(Value::Object(auths)) = value.get_mut("auths") {
            for (key, entry) in auths.iter_mut() {
                let decoded = AuthEntry::from_json(entry)
                    .with_context(|| format!("in the \"auths\" entry {key:?}"))?;
                let email = entry.get("email").filter(|e| !go_empty(e)).cloned();
                *entry = decoded.to_json(email.as_ref());
            }
        }
        Ok(go_json::config_to_string(&value))
    }

    /// Writes config.json atomically: a temp file beside it, renamed over it (through a
    /// symlink to its target); directory 0700, new file 0600, an existing file keeps its mode.
    pub fn save(&self) -> anyhow::Result<()> {
        let bytes = self.to_docker_bytes()?;
        let target = match std::fs::canonicalize(&self.path) {
            Ok(real) => real,
            Err(_) => self.path.clone(),
        };
        let dir = target
            .parent()
            .context("config.json has no parent directory")?;
        create_private_dir(dir).map_err(|e| not_writable(&self.path, e))?;
        let existing = std::fs::metadata(&target).ok();
        let mode = existing_mode(&target).unwrap_or(0o600);
        let mut temp = tempfile::Builder::new()
            .prefix(".config.json.")
            .tempfile_in(dir)
            .map_err(|e| not_writable(&self.path, e))?;
        temp.write_all(bytes.as_bytes())
            .and_then(|_| temp.as_file().sync_all())
            .map_err(|e| not_writable(&self.path, e))?;
        if let Some(existing) = &existing {
            keep_owner(temp.as_file(), existing).map_err(|e| not_writable(&self.path, e))?;
        }
        set_mode(temp.path(), mode).map_err(|e| not_writable(&self.path, e))?;
        temp.persist(&target)
            .map_err(|e| not_writable(&self.path, e.error))?;
        Ok(())
    }
}

fn read_json(path: &Path) -> anyhow::Result<Option<Map<String, Value>>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        // A config directory under a regular file cannot hold a config: treat it as absent so
        // that saving reports the unusable directory with its fix.
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
            ) =>
        {
            return Ok(None)
        }
        // EISDIR's own words ("Is a directory") under advice about DOCKER_CONFIG left the
        // user looking at the wrong thing.
        Err(_) if path.is_dir() => anyhow::bail!(
            "{} is a directory, not a file: remove it, or point DOCKER_CONFIG (or --config) elsewhere",
            path.display()
        ),
        Err(e) => {
            return Err(e).with_context(|| {
                format!(
                    "reading {}; point DOCKER_CONFIG (or --config) at a readable directory",
                    path.display()
                )
            })
        }
    };
    if text.trim().is_empty() {
        return Ok(Some(Map::new())); // Docker treats an empty file as an empty config.
    }
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(map)) => Ok(Some(map)),
        Ok(_) => anyhow::bail!(
            "{} is not a JSON object; fix or remove it (hoist will not overwrite it)",
            path.display()
        ),
        Err(e) => anyhow::bail!(
            "{} is not valid JSON ({e}); fix or remove it (hoist will not overwrite it)",
            path.display()
        ),
    }
}

/// The legacy `.dockercfg` format (`{"host": {"auth": …}}`, also what a Kubernetes
/// `kubernetes.io/dockercfg` Secret holds) becomes `{"auths": {…}}`.
fn normalize(value: Map<String, Value>) -> Map<String, Value> {
    let legacy = !value.contains_key("auths")
        && !value.is_empty()
        && value
            .values()
            .all(|v| v.as_object().is_some_and(|o| o.contains_key("auth")));
    if legacy {
        let mut map = Map::new();
        map.insert("auths".into(), Value::Object(value));
        map
    } else {
        value
    }
}

fn go_empty(v: &Value) -> bool {
    matches!(v, Value::Null) || v.as_str() == Some("")
}

fn not_writable(path: &Path, error: std::io::Error) -> anyhow::Error {
    anyhow::anyhow!(
        "cannot write {}: {error}; point DOCKER_CONFIG (or --config) at a writable directory",
        path.display()
    )
}

/// The new file keeps the old one's owner, as Docker's does: root logging in on a user's
/// behalf must not leave that user a config.json they cannot read. Only root may give a file
/// away; anyone else's temp file is theirs already, or the change is refused and skipped.
#[cfg(unix)]
fn keep_owner(temp: &std::fs::File, existing: &std::fs::Metadata) -> std::io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let now = temp.metadata()?;
    if (now.uid(), now.gid()) == (existing.uid(), existing.gid()) {
        return Ok(());
    }
    match std::os::unix::fs::fchown(temp, Some(existing.uid()), Some(existing.gid())) {
        Err(e) if e.raw_os_error() == Some(libc::EPERM) => Ok(()),
        other => other,
    }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(unix)]
fn existing_mode(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .ok()
        .map(|m| m.permissions().mode() & 0o7777)
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_entries_are_not_credentials() {
        let e = AuthEntry::from_json(&serde_json::json!({})).unwrap();
        assert!(!e.is_credential());
        let e = AuthEntry::from_json(&serde_json::json!({"auth": "dTpwOnc="})).unwrap();
        assert_eq!((e.username.as_str(), e.password.as_str()), ("u", "p:w"));
        assert!(e.is_credential());
        let e = AuthEntry::from_json(&serde_json::json!({"auth": "dTo=", "identitytoken": "t"}))
            .unwrap();
        assert!(e.password.is_empty() && e.is_credential());
        assert!(AuthEntry::from_json(&serde_json::json!({"auth": "%%"})).is_err());
    }

    #[test]
    fn debug_hides_secrets() {
        let e = AuthEntry {
            username: "u".into(),
            password: "hunter2".into(),
            ..Default::default()
        };
        assert!(!format!("{e:?}").contains("hunter2"));
    }

    #[test]
    fn legacy_format_is_read_as_auths() {
        let c =
            DockerConfig::parse(r#"{"reg.io": {"auth": "dTpw", "email": "e"}}"#, "test").unwrap();
        assert_eq!(c.auth("reg.io").unwrap().unwrap().password, "p");
    }

    #[test]
    fn malformed_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.json"), "{not json").unwrap();
        let err = DockerConfig::load(dir.path(), None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("config.json") && err.contains("not valid JSON"),
            "{err}"
        );
    }

    #[test]
    fn save_keeps_unknown_fields_and_uses_0600() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let cfg_dir = dir.path().join("new");
        std::fs::create_dir(&cfg_dir).unwrap();
        std::fs::write(
            cfg_dir.join("config.json"),
            r#"{"custom": {"b": 1, "a": 2}}"#,
        )
        .unwrap();
        std::fs::set_permissions(
            cfg_dir.join("config.json"),
            std::fs::Permissions::from_mode(0o640),
        )
        .unwrap();
        let mut c = DockerConfig::load(&cfg_dir, None).unwrap();
        let _ = c.set_auth(
            "r.io",
            &AuthEntry {
                username: "u".into(),
                password: "p".into(),
                ..Default::default()
            },
            false,
        );
        c.save().unwrap();
        let text = std::fs::read_to_string(cfg_dir.join("config.json")).unwrap();
        assert_eq!(text, "{\n\t\"auths\": {\n\t\t\"r.io\": {\n\t\t\t\"auth\": \"dTpw\"\n\t\t}\n\t},\n\t\"custom\": {\n\t\t\"b\": 1,\n\t\t\"a\": 2\n\t}\n}");
        let mode = std::fs::metadata(cfg_dir.join("config.json"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o640, "an existing file keeps its mode");
        let fresh = dir.path().join("fresh/sub");
        let c = DockerConfig::load(&fresh, None).unwrap();
        c.save().unwrap();
        assert_eq!(
            std::fs::metadata(fresh.join("config.json"))
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o600
        );
        assert_eq!(
            std::fs::metadata(&fresh).unwrap().permissions().mode() & 0o777,
            0o700
        );
    }

    #[test]
    fn update_writes_only_changes_and_a_no_op_creates_nothing() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let cfg_dir = dir.path().join("none");
        let mut c = DockerConfig::load(&cfg_dir, None).unwrap();
        let removed = c
            .update(|f| {
                let r = f.remove_auth("r.io");
                (r, r)
            })
            .unwrap();
        assert!(!removed && !cfg_dir.exists(), "a logout with nothing to do");
        let entry = AuthEntry {
            username: "u".into(),
            password: "p".into(),
            ..Default::default()
        };
        c.update(|f| ((), f.set_auth("r.io", &entry, false)))
            .unwrap();
        let path = cfg_dir.join("config.json");
        assert!(cfg_dir.join("config.json.lock").exists());
        let inode = std::fs::metadata(&path).unwrap().ino();
        // The same credential again: nothing to write, the file is not replaced.
        c.update(|f| ((), f.set_auth("r.io", &entry, false)))
            .unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().ino(), inode);
        // Changed meanwhile by another process: re-read, and both entries kept.
        let mut other = DockerConfig::load(&cfg_dir, None).unwrap();
        other
            .update(|f| ((), f.set_auth("o.io", &entry, false)))
            .unwrap();
        c.update(|f| ((), f.set_auth("n.io", &entry, false)))
            .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            ["r.io", "o.io", "n.io"].iter().all(|k| text.contains(k)),
            "{text}"
        );
    }
}
