//! Image references and registry names, parsed the way the Docker CLI parses them.
//!
//! The user's string is kept apart from the canonical form: `alpine` is shown back as the
//! user typed it, but is `docker.io/library/alpine:latest` everywhere hoist stores it.
//! All Docker Hub defaulting lives here and nowhere else.

use crate::types::Digest;
use std::fmt;

/// Docker Hub's canonical registry name in references.
pub const DOCKER_HUB: &str = "docker.io";
/// Where Docker Hub's `/v2/` API actually answers.
pub const DOCKER_HUB_API: &str = "registry-1.docker.io";
/// The key Docker writes Docker Hub credentials under in config.json.
pub const DOCKER_HUB_CONFIG_KEY: &str = "https://index.docker.io/v1/";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReferenceError {
    #[error("invalid reference {0:?}: {1}")]
    Invalid(String, &'static str),
}

/// A registry host as the user names it for `login`/`logout` and as references carry it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Registry {
    /// `docker.io` or `host[:port]`, lowercase.
    host: String,
}

impl Registry {
    /// Parses what a user passes to `hoist login`: a bare host, `host:port`, or a URL with a
    /// scheme and path (`https://reg.example.com/v1/`). No argument at all means Docker Hub.
    pub fn from_server_arg(arg: Option<&str>) -> Registry {
        let host = match arg {
            None => DOCKER_HUB.to_string(),
            Some(s) => hostname_of(s).to_ascii_lowercase(),
        };
        Registry::new(&host)
    }

    /// [`Registry::from_server_arg`] for a user's argument, refusing what no registry can
    /// be (a port above 65535), so the mistake is a usage error before any request.
    pub fn parse_server_arg(arg: Option<&str>) -> Result<Registry, ReferenceError> {
        if let Some(s) = arg {
            check_port(hostname_of(s))
                .map_err(|why| ReferenceError::Invalid(s.to_string(), why))?;
        }
        Ok(Registry::from_server_arg(arg))
    }

    pub fn new(host: &str) -> Registry {
        let host = match host {
            ""
            | "docker.io"
            | "index.docker.io"
            | "registry-1.docker.io"
            | "registry.hub.docker.com" => DOCKER_HUB.to_string(),
            other => other.to_string(),
        };
        Registry { host }
    }

    /// The canonical name: `docker.io` or `host[:port]`.
    pub fn name(&self) -> &str {
        &self.host
    }

    pub fn is_docker_hub(&self) -> bool {
        self.host == DOCKER_HUB
    }

    /// Host (and port) that serves the `/v2/` API.
    pub fn api_host(&self) -> &str {
        if self.is_docker_hub() {
            DOCKER_HUB_API
        } else {
            &self.host
        }
    }

    /// The key this registry's credentials live under in Docker's config.json.
    pub fn config_key(&self) -> &str {
        if self.is_docker_hub() {
            DOCKER_HUB_CONFIG_KEY
        } else {
            &self.host
        }
    }

    /// Loopback registries may be reached over plain HTTP, as Docker allows by default.
    pub fn is_loopback(&self) -> bool {
        let host = host_without_port(&self.host);
        host == "localhost"
            || host.ends_with(".localhost")
            || host
                .parse::<std::net::IpAddr>()
                .map(|ip| ip.is_loopback())
                .unwrap_or(false)
    }
}

impl fmt::Display for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.host)
    }
}

/// Strips a scheme and any path: `https://reg.example.com:5000/v1/` → `reg.example.com:5000`.
/// Config keys written by old clients carry both, so lookups compare hostnames.
pub fn hostname_of(server: &str) -> &str {
    let rest = server
        .strip_prefix("https://")
        .or_else(|| server.strip_prefix("http://"))
        .unwrap_or(server);
    rest.split('/').next().unwrap_or(rest)
}

fn host_without_port(host: &str) -> &str {
    if let Some(v6) = host.strip_prefix('[') {
        return v6.split(']').next().unwrap_or(v6);
    }
    host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host)
}

/// `[registry/]repository[:tag][@digest]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    original: String,
    registry: Registry,
    repository: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

impl Reference {
    pub fn parse(input: &str) -> Result<Reference, ReferenceError> {
        let bad = |why| ReferenceError::Invalid(input.to_string(), why);
        if input.is_empty() {
            return Err(bad("empty"));
        }
        if let Some((scheme, _)) = input.split_once("://") {
            if scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https") {
                return Err(bad(
                    "drop the scheme: hoist picks HTTP or HTTPS itself (see --insecure)",
                ));
            }
        }
        let (name_and_tag, digest) = match input.split_once('@') {
            Some((n, d)) => (n, Some(d.parse::<Digest>().map_err(|_| bad("bad digest"))?)),
            None => (input, None),
        };
        // A tag follows the last ':' that comes after the last '/'; earlier colons are ports.
        let last_slash = name_and_tag.rfind('/').map(|i| i + 1).unwrap_or(0);
        let (name, tag) = match name_and_tag[last_slash..].rfind(':') {
            Some(i) => {
                let split = last_slash + i;
                (&name_and_tag[..split], Some(&name_and_tag[split + 1..]))
            }
            None => (name_and_tag, None),
        };
        if let Some(tag) = tag {
            if !valid_tag(tag) {
                return Err(bad("bad tag"));
            }
        }
        let (registry, path) = split_registry(name);
        if registry.is_empty()
            || !registry
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-.:[]".contains(c))
        {
            return Err(bad("bad registry host"));
        }
        check_port(registry).map_err(bad)?;
        // Hostnames are case-insensitive, but a host recognised only by its capital letters
        // ("Myhost/app") must keep them or it would read back as a Docker Hub repository.
        let lowered = registry.to_ascii_lowercase();
        let registry = if split_registry(&format!("{lowered}/x")).0 == lowered {
            Registry::new(&lowered)
        } else {
            Registry::new(registry)
        };
        let repository = if registry.is_docker_hub() && !path.contains('/') {
            format!("library/{path}")
        } else {
            path.to_string()
        };
        if repository.split('/').any(str::is_empty) {
            return Err(bad("empty path component (\"//\", or \"/\" at an end)"));
        }
        if !repository.split('/').all(valid_path_component) {
            return Err(bad(
                "repository names must be lowercase letters, digits and separators",
            ));
        }
        if repository.len() > 255 {
            return Err(bad("repository name longer than 255 characters"));
        }
        let tag = match (tag, &digest) {
            (Some(t), _) => Some(t.to_string()),
            (None, None) => Some("latest".to_string()),
            (None, Some(_)) => None,
        };
        Ok(Reference {
            original: input.to_string(),
            registry,
            repository,
            tag,
            digest,
        })
    }

    /// Exactly what the user typed.
    pub fn original(&self) -> &str {
        &self.original
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    pub fn repository(&self) -> &str {
        &self.repository
    }

    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// What goes after `/manifests/`: the digest when there is one, since it is exact.
    pub fn manifest_reference(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.clone(),
            (None, None) => "latest".to_string(),
        }
    }

    /// `registry/repository` without tag or digest.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The name an image is kept under in an OCI layout's `index.json`: the tag when there is
    /// one (so pulling again replaces the entry), otherwise the digest.
    pub fn store_name(&self) -> String {
        match (&self.tag, &self.digest) {
            (Some(t), _) => format!("{}/{}:{t}", self.registry, self.repository),
            (None, Some(d)) => format!("{}/{}@{d}", self.registry, self.repository),
            (None, None) => format!("{}/{}:latest", self.registry, self.repository),
        }
    }

    /// The same image under a pinned digest, keeping the tag for display.
    pub fn with_digest(&self, digest: Digest) -> Reference {
        Reference {
            digest: Some(digest),
            ..self.clone()
        }
    }
}

/// The canonical, fully qualified form: `docker.io/library/alpine:3.19`.
impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Reference {
    type Err = ReferenceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Reference::parse(s)
    }
}

/// Docker's rule: the first component is a registry if it has a '.' or ':', is `localhost`,
/// or has an uppercase letter (repositories cannot); otherwise the image is on Docker Hub.
fn split_registry(name: &str) -> (&str, &str) {
    match name.split_once('/') {
        Some((first, rest))
            if first.contains(['.', ':'])
                || first == "localhost"
                || first.chars().any(|c| c.is_ascii_uppercase()) =>
        {
            (first, rest)
        }
        _ => (DOCKER_HUB, name),
    }
}

/// A port, when the host names one, is a number from 1 to 65535.
fn check_port(host: &str) -> Result<(), &'static str> {
    let port = match host.strip_prefix('[') {
        Some(v6) => v6.split_once(']').and_then(|(_, p)| p.strip_prefix(':')),
        None => host.split_once(':').map(|(_, p)| p),
    };
    match port {
        None => Ok(()),
        Some(p)
            if p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u16>().is_ok_and(|n| n > 0) =>
        {
            Ok(())
        }
        Some(_) => Err("the port must be a number from 1 to 65535"),
    }
}

fn valid_tag(tag: &str) -> bool {
    let mut chars = tag.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric() || c == '_')
        && tag.len() <= 128
        && chars.all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
fn valid_path_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    if bytes.is_empty() || !is_alnum(bytes[0]) || !is_alnum(bytes[bytes.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if is_alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !is_alnum(bytes[i]) {
            i += 1;
        }
        let sep = &component[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|b| b == b'-');
        if !ok {
            return false;
        }
    }
    true
}

fn is_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(s: &str) -> String {
        Reference::parse(s).unwrap().to_string()
    }

    fn why(s: &str) -> String {
        Reference::parse(s).unwrap_err().to_string()
    }

    /// Each mistake is named for what it is, not as "must be lowercase".
    #[test]
    fn errors_name_the_real_problem() {
        for s in ["reg:5000/a//b", "reg/a/", "reg//a"] {
            assert!(why(s).contains("empty path component"), "{s}: {}", why(s));
        }
        for s in ["http://host/app", "https://reg:5000/a:1", "HTTPS://reg/a"] {
            assert!(why(s).contains("drop the scheme"), "{s}: {}", why(s));
        }
        assert!(why("reg/App").contains("lowercase"));
    }

    #[test]
    fn docker_hub_defaulting() {
        assert_eq!(canon("alpine"), "docker.io/library/alpine:latest");
        assert_eq!(canon("alpine:3.19"), "docker.io/library/alpine:3.19");
        assert_eq!(canon("user/app"), "docker.io/user/app:latest");
        assert_eq!(
            canon("index.docker.io/library/alpine"),
            "docker.io/library/alpine:latest"
        );
        assert_eq!(canon("docker.io/alpine"), "docker.io/library/alpine:latest");
        let r = Reference::parse("alpine").unwrap();
        assert_eq!(r.registry().api_host(), "registry-1.docker.io");
        assert_eq!(r.original(), "alpine");
    }

    #[test]
    fn registries_with_ports_and_paths() {
        let r = Reference::parse("127.0.0.1:5000/a/b:v1").unwrap();
        assert_eq!(r.registry().name(), "127.0.0.1:5000");
        assert_eq!(r.repository(), "a/b");
        assert_eq!(r.tag(), Some("v1"));
        assert!(r.registry().is_loopback());
        let r = Reference::parse("localhost/app").unwrap();
        assert_eq!(r.registry().name(), "localhost");
        assert_eq!(r.repository(), "app");
        let r = Reference::parse("localhost:5000/app").unwrap();
        assert_eq!(r.tag(), Some("latest"));
        assert!(Reference::parse("[::1]:5000/app").is_ok());
    }

    #[test]
    fn ports_above_65535_are_refused() {
        for bad in [
            "localhost:65536/app",
            "reg.io:99999/a:v1",
            "[::1]:70000/app",
            "reg.io:/a",
            "reg.io:5x/a",
        ] {
            let err = Reference::parse(bad).unwrap_err().to_string();
            assert!(err.contains("port"), "{bad}: {err}");
        }
        assert!(Registry::parse_server_arg(Some("https://reg.io:65536/v1/")).is_err());
        assert!(Registry::parse_server_arg(Some("reg.io:65535")).is_ok());
        assert!(Registry::parse_server_arg(None).is_ok());
    }

    #[test]
    fn digests_and_tags() {
        let d = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let r = Reference::parse(&format!("reg.io/app@{d}")).unwrap();
        assert_eq!(r.tag(), None);
        assert_eq!(r.manifest_reference(), d);
        let r = Reference::parse(&format!("reg.io/app:1.0@{d}")).unwrap();
        assert_eq!(r.tag(), Some("1.0"));
        assert_eq!(r.manifest_reference(), d);
        assert_eq!(r.to_string(), format!("reg.io/app:1.0@{d}"));
    }

    #[test]
    fn rejects_invalid() {
        for bad in [
            "",
            "Alpine",
            "app:",
            "app:-x",
            "reg.io/a//b",
            "reg.io/-a",
            "app@sha256:123",
            "a/B",
        ] {
            assert!(Reference::parse(bad).is_err(), "{bad}");
        }
    }

    /// Found by the reference fuzz target: the canonical form must parse back to itself.
    #[test]
    fn uppercase_registry_round_trips() {
        let r = Reference::parse("Focalhost/x_y.z-w").unwrap();
        assert_eq!(r.registry().name(), "Focalhost");
        assert_eq!(
            Reference::parse(&r.to_string()).unwrap(),
            Reference::parse("Focalhost/x_y.z-w:latest").unwrap()
        );
        assert_eq!(
            Reference::parse("REG.io/app").unwrap().registry().name(),
            "reg.io"
        );
    }

    #[test]
    fn login_server_arguments() {
        assert_eq!(
            Registry::from_server_arg(None).config_key(),
            DOCKER_HUB_CONFIG_KEY
        );
        for hub in [
            "docker.io",
            "index.docker.io",
            "https://index.docker.io/v1/",
        ] {
            assert_eq!(
                Registry::from_server_arg(Some(hub)).config_key(),
                DOCKER_HUB_CONFIG_KEY
            );
        }
        let r = Registry::from_server_arg(Some("https://Reg.Example.com:5000/v1/"));
        assert_eq!(r.config_key(), "reg.example.com:5000");
        assert!(!r.is_loopback());
        assert!(Registry::new("[::1]:5000").is_loopback());
    }
}
