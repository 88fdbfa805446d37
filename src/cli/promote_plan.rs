//! Plans for the promotion commands — copy, tag, inspect, tags — and push's extra tags:
//! references parsed, tags and platforms checked, every usage error (exit 2) raised here
//! before the first request. Nothing here talks to a registry or prints.

use super::args::{CopyArgs, InspectArgs, InspectFormat, TagArgs, TagsArgs};
use super::plan::{path_shaped, usage};
use super::writable::check_digest_file;
use crate::config::ConfigDir;
use crate::engine::transfer::AUTO_JOBS;
use crate::image::{Platform, PlatformChoice};
use crate::reference::Reference;
use std::path::{Path, PathBuf};

pub struct CopyPlan {
    pub source: Reference,
    pub destination: Reference,
    /// Tags besides the destination's own, in the destination repository.
    pub tags: Vec<String>,
    /// `--platform`: copy this platform's image alone.
    pub platform: Option<Platform>,
    pub referrers: bool,
    pub jobs: usize,
    pub chunk_size: Option<u64>,
    pub digest_file: Option<PathBuf>,
    pub json: bool,
    pub config_dir: Option<ConfigDir>,
}

pub struct TagPlan {
    pub reference: Reference,
    pub tags: Vec<String>,
    pub config_dir: Option<ConfigDir>,
}

pub struct InspectPlan {
    pub target: InspectTarget,
    pub format: InspectFormat,
    pub platform: Option<Platform>,
    pub config_dir: Option<ConfigDir>,
}

/// What `inspect` reads: a registry, or a local image (as push's `--from` takes it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InspectTarget {
    Registry(Reference),
    Path { path: PathBuf, name: Option<String> },
}

pub struct TagsPlan {
    pub repository: Reference,
    pub json: bool,
    pub page_size: Option<usize>,
    pub config_dir: Option<ConfigDir>,
}

fn reference(arg: &str) -> anyhow::Result<Reference> {
    Reference::parse(arg).map_err(|e| usage(e.to_string()))
}

fn platform(arg: Option<&str>) -> anyhow::Result<Option<Platform>> {
    let Some(arg) = arg else { return Ok(None) };
    match PlatformChoice::parse(Some(arg)).map_err(|e| usage(e.to_string()))? {
        PlatformChoice::One(p) => Ok(Some(p)),
        _ => Err(usage(format!("--platform {arg}: name one platform"))),
    }
}

/// Each extra tag must be a valid tag (the reference grammar's), each named once; the
/// destination's own tag is not repeated.
pub fn extra_tags(destination: &Reference, tags: &[String]) -> anyhow::Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for tag in tags {
        let parsed = Reference::parse(&format!("{}:{tag}", destination.name()));
        if parsed
            .ok()
            .and_then(|r| r.tag().map(str::to_string))
            .as_deref()
            != Some(tag)
        {
            return Err(usage(format!(
                "invalid tag {tag:?}: up to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-'"
            )));
        }
        if destination.tag() != Some(tag) && !out.contains(tag) {
            out.push(tag.clone());
        }
    }
    Ok(out)
}

pub fn copy(args: CopyArgs, config_dir: Option<ConfigDir>) -> anyhow::Result<CopyPlan> {
    let source = reference(&args.source)?;
    let destination = reference(&args.destination)?;
    if destination.digest().is_some() {
        return Err(usage(format!(
            "{}: the destination is a repository and a tag, not a digest (the digest is kept: it is the source's)",
            args.destination
        )));
    }
    if source.name() == destination.name() && source.tag() == destination.tag() {
        return Err(usage(
            "the source and the destination are the same; to add a tag use: hoist tag REF NEWTAG",
        ));
    }
    let tags = extra_tags(&destination, &args.tags)?;
    if let Some(file) = &args.result.digest_file {
        check_digest_file(file)?;
    }
    Ok(CopyPlan {
        source,
        destination,
        tags,
        platform: platform(args.platform.as_deref())?,
        referrers: args.referrers,
        jobs: args.jobs.unwrap_or(AUTO_JOBS),
        chunk_size: args.chunk_size,
        digest_file: args.result.digest_file,
        json: args.result.json,
        config_dir,
    })
}

pub fn tag(args: TagArgs, config_dir: Option<ConfigDir>) -> anyhow::Result<TagPlan> {
    let reference = reference(&args.reference)?;
    let mut tags = Vec::new();
    for tag in extra_tags(&reference, &args.tags)? {
        tags.push(tag);
    }
    if tags.is_empty() {
        return Err(usage(format!(
            "{} already has every tag given",
            args.reference
        )));
    }
    Ok(TagPlan {
        reference,
        tags,
        config_dir,
    })
}

pub fn inspect(args: InspectArgs, config_dir: Option<ConfigDir>) -> anyhow::Result<InspectPlan> {
    let format = match (args.format, args.raw, args.json) {
        (Some(f), _, _) => f,
        (None, true, _) => InspectFormat::Raw,
        (None, _, true) => InspectFormat::Json,
        (None, false, false) => InspectFormat::Text,
    };
    Ok(InspectPlan {
        target: inspect_target(&args.reference)?,
        format,
        platform: platform(args.platform.as_deref())?,
        config_dir,
    })
}

/// A path that exists (or `DIR:NAME`) is a local image; a path-shaped one that does not is
/// an error about the path; anything else is a registry reference.
fn inspect_target(arg: &str) -> anyhow::Result<InspectTarget> {
    if Path::new(arg).exists() {
        return Ok(InspectTarget::Path {
            path: arg.into(),
            name: None,
        });
    }
    if let Some((path, name)) = arg.rsplit_once(':') {
        if Path::new(path).is_dir() {
            return Ok(InspectTarget::Path {
                path: path.into(),
                name: Some(name.to_string()),
            });
        }
    }
    if path_shaped(arg) {
        return Err(usage(format!("{arg}: no such file or directory")));
    }
    Ok(InspectTarget::Registry(reference(arg)?))
}

pub fn tags(args: TagsArgs, config_dir: Option<ConfigDir>) -> anyhow::Result<TagsPlan> {
    let repository = reference(&args.repository)?;
    let typed = args.repository.rsplit('/').next().unwrap_or_default();
    if typed.contains(':') || repository.digest().is_some() {
        return Err(usage(format!(
            "{}: name a repository, without a tag or digest",
            args.repository
        )));
    }
    Ok(TagsPlan {
        repository,
        json: args.json,
        page_size: args.page_size,
        config_dir,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_tags_are_checked_and_named_once() {
        let dst = Reference::parse("reg.example/app:1").unwrap();
        let tags =
            |t: &[&str]| extra_tags(&dst, &t.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(tags(&["stable", "1", "stable"]).unwrap(), ["stable"]);
        for bad in ["", "a/b", "a:b", "-x", ".x", "a@b", &"x".repeat(129)] {
            assert!(tags(&[bad]).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn inspect_reads_paths_and_references() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_str().unwrap();
        assert_eq!(
            inspect_target(path).unwrap(),
            InspectTarget::Path {
                path: path.into(),
                name: None
            }
        );
        assert_eq!(
            inspect_target(&format!("{path}:app")).unwrap(),
            InspectTarget::Path {
                path: path.into(),
                name: Some("app".into())
            }
        );
        assert!(inspect_target("./missing.tar").is_err());
        assert!(matches!(
            inspect_target("reg.example/app:1").unwrap(),
            InspectTarget::Registry(_)
        ));
    }
}
