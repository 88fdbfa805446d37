//! Platforms: what `--platform` asks for, what an image is for, and which entry of an index
//! to take. Parsing is a pure function with a typed error; callers decide the exit code.

use super::descriptor::Descriptor;
use super::manifest::ImageIndex;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// `os.version`, `os.features` and the like, kept as they were.
    #[serde(flatten)]
    pub unknown: serde_json::Map<String, serde_json::Value>,
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// `--platform` that names no platform.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid --platform {0:?}: expected os/arch[/variant] (e.g. linux/arm64/v8) or all")]
pub struct PlatformError(pub String);

/// Which image of a multi-platform index to take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlatformChoice {
    /// Keep the whole index and every platform's image.
    All,
    /// Asked for with `--platform`: a single-platform image for another platform is an error.
    One(Platform),
    /// The platform hoist runs on, by default: a single-platform image is taken as it is.
    Host(Platform),
}

impl PlatformChoice {
    /// The platform to pick from an index, unless every one is wanted.
    pub fn wanted(&self) -> Option<&Platform> {
        match self {
            PlatformChoice::All => None,
            PlatformChoice::One(p) | PlatformChoice::Host(p) => Some(p),
        }
    }

    /// `--platform os/arch[/variant]`, `all`, or (absent) the platform hoist runs on.
    pub fn parse(arg: Option<&str>) -> Result<PlatformChoice, PlatformError> {
        let Some(arg) = arg else {
            return Ok(PlatformChoice::Host(host_platform()));
        };
        if arg == "all" {
            return Ok(PlatformChoice::All);
        }
        let parts: Vec<&str> = arg.split('/').collect();
        match parts.as_slice() {
            [os, arch] | [os, arch, _] if !os.is_empty() && !arch.is_empty() => Ok(
                PlatformChoice::One(Platform::new(os, arch, parts.get(2).copied())),
            ),
            _ => Err(PlatformError(arg.to_string())),
        }
    }
}

/// Images are Linux images even when hoist runs elsewhere, as with Docker; the architecture
/// uses Go's names, which is what registries store.
pub fn host_platform() -> Platform {
    let (architecture, variant) = match std::env::consts::ARCH {
        "x86_64" => ("amd64", None),
        "aarch64" => ("arm64", None),
        "arm" => ("arm", Some("v7")),
        "x86" => ("386", None),
        "powerpc64" => ("ppc64le", None),
        "s390x" => ("s390x", None),
        "riscv64" => ("riscv64", None),
        other => (other, None),
    };
    Platform::new("linux", architecture, variant)
}

impl Platform {
    pub fn new(os: &str, architecture: &str, variant: Option<&str>) -> Platform {
        Platform {
            os: os.to_string(),
            architecture: architecture.to_string(),
            variant: variant.map(str::to_string),
            unknown: Default::default(),
        }
    }

    /// What an image's config says it runs on (its `os`, `architecture` and `variant`).
    pub fn of_config(config: &[u8]) -> anyhow::Result<Platform> {
        use anyhow::Context;
        #[derive(Deserialize)]
        struct Probe {
            os: String,
            architecture: String,
            variant: Option<String>,
        }
        let p: Probe = serde_json::from_slice(config)
            .context("the image config names no os and architecture")?;
        Ok(Platform::new(&p.os, &p.architecture, p.variant.as_deref()))
    }

    /// Docker's rule: os and architecture must agree; a variant only counts when both name
    /// one (arm64 images rarely say `v8`).
    pub fn matches(&self, wanted: &Platform) -> bool {
        self.os == wanted.os
            && self.architecture == wanted.architecture
            && match (&self.variant, &wanted.variant) {
                (Some(have), Some(want)) => have == want,
                _ => true,
            }
    }
}

/// The index entry for `wanted`: exact variant first; without one asked for, the entry with
/// no variant or the first (arm64's `v8` is often omitted, sometimes not).
pub fn select<'a>(index: &'a ImageIndex, wanted: &Platform) -> Option<&'a Descriptor> {
    let candidates: Vec<&Descriptor> = index
        .manifests
        .iter()
        .filter(|d| {
            d.platform
                .as_ref()
                .is_some_and(|p| p.os == wanted.os && p.architecture == wanted.architecture)
        })
        .collect();
    let variant_of = |d: &Descriptor| d.platform.as_ref().and_then(|p| p.variant.clone());
    match &wanted.variant {
        Some(v) => candidates
            .iter()
            .find(|d| variant_of(d).as_deref() == Some(v))
            .or_else(|| candidates.iter().find(|d| variant_of(d).is_none()))
            .copied(),
        None => candidates
            .iter()
            .find(|d| variant_of(d).is_none())
            .or(candidates.first())
            .copied(),
    }
}

/// The platforms an index offers, for telling the user what to choose from.
pub fn platforms(index: &ImageIndex) -> Vec<String> {
    index
        .manifests
        .iter()
        .filter_map(|d| d.platform.as_ref())
        .filter(|p| p.os != "unknown")
        .map(|p| p.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::RawManifest;
    use crate::types::Digest;

    fn index() -> ImageIndex {
        let d = Digest::of(b"x");
        let entry = |arch: &str, variant: Option<&str>| {
            let variant = variant
                .map(|v| format!(r#","variant":"{v}""#))
                .unwrap_or_default();
            format!(
                r#"{{"mediaType":"m","digest":"{d}","size":1,"platform":{{"os":"linux","architecture":"{arch}"{variant}}}}}"#
            )
        };
        let json = format!(
            r#"{{"manifests":[{},{},{}]}}"#,
            entry("amd64", None),
            entry("arm", Some("v6")),
            entry("arm", Some("v7"))
        );
        RawManifest::new(json.into_bytes(), crate::image::media::OCI_INDEX)
            .index()
            .unwrap()
    }

    #[test]
    fn selects_by_platform_and_variant() {
        let i = index();
        let want = |s: &str| match PlatformChoice::parse(Some(s)).unwrap() {
            PlatformChoice::One(p) => p,
            other => unreachable!("{other:?}"),
        };
        assert!(select(&i, &want("linux/amd64")).is_some());
        let v7 = select(&i, &want("linux/arm/v7")).unwrap();
        assert_eq!(v7.platform.as_ref().unwrap().variant.as_deref(), Some("v7"));
        assert!(select(&i, &want("linux/s390x")).is_none());
        assert_eq!(
            platforms(&i),
            ["linux/amd64", "linux/arm/v6", "linux/arm/v7"]
        );
    }

    #[test]
    fn config_platform_matches_as_docker_does() {
        let config = |json: &str| Platform::of_config(json.as_bytes()).unwrap();
        let want = |s: &str| {
            PlatformChoice::parse(Some(s))
                .unwrap()
                .wanted()
                .unwrap()
                .clone()
        };
        let amd64 = config(r#"{"os":"linux","architecture":"amd64","rootfs":{}}"#);
        assert!(amd64.matches(&want("linux/amd64")));
        assert!(!amd64.matches(&want("linux/arm64")));
        let arm = config(r#"{"os":"linux","architecture":"arm","variant":"v7"}"#);
        assert!(arm.matches(&want("linux/arm")));
        assert!(arm.matches(&want("linux/arm/v7")));
        assert!(!arm.matches(&want("linux/arm/v6")));
        assert_eq!(arm.to_string(), "linux/arm/v7");
    }

    #[test]
    fn platform_arguments() {
        assert_eq!(
            PlatformChoice::parse(Some("all")).unwrap(),
            PlatformChoice::All
        );
        assert_eq!(
            PlatformChoice::parse(Some("linux")),
            Err(PlatformError("linux".into()))
        );
        assert!(PlatformChoice::parse(Some("linux/")).is_err());
        assert!(
            matches!(PlatformChoice::parse(None).unwrap(), PlatformChoice::Host(p) if p.os == "linux")
        );
    }
}
