//! Picking one image out of a layout or an archive: the one a user named, or the only one.
//! Layouts, OCI archives and docker-archives all pick through here, so a name, a miss and an
//! ambiguity read the same whatever the format. It sees names only: it reads no files and
//! knows no descriptor or manifest type.

use super::{Result, StoreError};
use std::path::Path;

/// One image as the picker sees it.
pub(crate) struct Candidate {
    /// The names the image carries (ref-name and containerd annotations, or RepoTags).
    pub names: Vec<String>,
    /// How error messages list it: its name, or its digest when it has none.
    pub listed: Vec<String>,
    /// Candidates with equal keys are one image (an index may name a manifest twice).
    pub key: String,
}

/// How a name that is not written exactly as the image carries it may still match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Loose {
    /// OCI layouts and archives: short and long forms match both ways, by repository and tag,
    /// and a bare word is a tag (skopeo's `oci:DIR:latest` writes only the tag). Several
    /// images matching this way are an error, not a guess.
    RepoAndTag,
    /// docker-archive RepoTags are references: they match when equal once made canonical
    /// (`alpine:3.19` is `docker.io/library/alpine:3.19`); the first such image is taken.
    SameReference,
}

/// The index of the image `name` picks (it must exist), or of the only image when no name
/// is given.
pub(crate) fn select(
    path: &Path,
    name: Option<&str>,
    images: &[Candidate],
    loose: Loose,
) -> Result<usize> {
    match name {
        Some(name) => find(path, name, images, loose)?.ok_or_else(|| StoreError::ImageNotFound {
            path: path.to_path_buf(),
            name: name.to_string(),
            available: listed(images.iter()),
        }),
        None => match images.len() {
            0 => Err(StoreError::NoImage(path.to_path_buf())),
            1 => Ok(0),
            _ => Err(StoreError::AmbiguousImage {
                path: path.to_path_buf(),
                available: listed(images.iter()),
            }),
        },
    }
}

/// The index of the image `name` picks, if any. A name carried exactly wins; otherwise the
/// `loose` rule decides.
pub(crate) fn find(
    path: &Path,
    name: &str,
    images: &[Candidate],
    loose: Loose,
) -> Result<Option<usize>> {
    if let Some(i) = images
        .iter()
        .position(|c| c.names.iter().any(|n| n == name))
    {
        return Ok(Some(i));
    }
    let mut found: Vec<usize> = Vec::new();
    match loose {
        Loose::RepoAndTag => {
            let want = name_parts(name);
            for (i, c) in images.iter().enumerate() {
                let hit = c.names.iter().any(|have| same_repo_and_tag(&want, have));
                if hit && !found.iter().any(|&f| images[f].key == c.key) {
                    found.push(i);
                }
            }
        }
        Loose::SameReference => {
            if let Some(want) = canonical(name) {
                let hit =
                    |c: &Candidate| c.names.iter().any(|t| canonical(t).as_ref() == Some(&want));
                found.extend(images.iter().position(hit));
            }
        }
    }
    match found.len() {
        0 => Ok(None),
        1 => Ok(Some(found[0])),
        _ => Err(StoreError::AmbiguousImage {
            path: path.to_path_buf(),
            available: listed(found.iter().map(|&i| &images[i])),
        }),
    }
}

fn listed<'a>(images: impl Iterator<Item = &'a Candidate>) -> Vec<String> {
    images.flat_map(|c| c.listed.iter().cloned()).collect()
}

fn canonical(name: &str) -> Option<String> {
    crate::reference::Reference::parse(name)
        .ok()
        .map(|r| r.to_string())
}

/// A name split into an optional canonical repository (`docker.io/library/alpine`) and a tag.
fn name_parts(name: &str) -> (Option<String>, Option<String>) {
    if name.contains('/') || name.contains(':') {
        if let Ok(r) = crate::reference::Reference::parse(name) {
            if r.digest().is_none() {
                return (Some(r.name()), r.tag().map(str::to_string));
            }
        }
        return (None, None);
    }
    // A bare word: skopeo's `oci:DIR:latest` writes only the tag.
    (None, Some(name.to_string()))
}

fn same_repo_and_tag(want: &(Option<String>, Option<String>), have: &str) -> bool {
    let (want_repo, want_tag) = want;
    let (have_repo, have_tag) = name_parts(have);
    let tags_agree = have_tag.is_some() && &have_tag == want_tag;
    let repos_agree = match (&have_repo, want_repo) {
        (Some(a), Some(b)) => a == b,
        // One side is a bare tag: the tag alone decides.
        _ => true,
    };
    tags_agree && repos_agree
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(names: &[&str], key: &str) -> Candidate {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let listed = match names.first() {
            Some(n) => vec![n.clone()],
            None => vec![key.to_string()],
        };
        Candidate {
            names,
            listed,
            key: key.to_string(),
        }
    }

    #[test]
    fn exact_names_win_then_the_loose_rule_decides() {
        let p = Path::new("/x");
        let images = [
            image(&["docker.io/library/alpine:latest"], "a"),
            image(&["latest"], "b"),
        ];
        let pick = |n| find(p, n, &images, Loose::RepoAndTag).map_err(|e| e.to_string());
        assert_eq!(pick("latest"), Ok(Some(1)));
        assert_eq!(pick("docker.io/library/alpine:latest"), Ok(Some(0)));
        assert_eq!(pick("v2"), Ok(None));
        assert_eq!(
            pick("alpine:latest"),
            Err(
                "/x holds several images; name one of: docker.io/library/alpine:latest, latest"
                    .into()
            )
        );
        let by_ref = |n| find(p, n, &images, Loose::SameReference).unwrap();
        assert_eq!(by_ref("alpine"), Some(0));
        assert_eq!(by_ref("v2"), None);
    }

    #[test]
    fn one_image_named_twice_is_not_ambiguous_and_references_take_the_first() {
        let p = Path::new("/x");
        let twice = [image(&["v1"], "a"), image(&["x/y:v1"], "a")];
        assert_eq!(
            find(p, "docker.io/x/y:v1", &twice, Loose::RepoAndTag).unwrap(),
            Some(0)
        );
        let tags = [
            image(&["alpine:3"], "0"),
            image(&["docker.io/library/alpine:3"], "1"),
        ];
        let found = find(p, "library/alpine:3", &tags, Loose::SameReference).unwrap();
        assert_eq!(found, Some(0));
    }

    #[test]
    fn no_name_takes_the_only_image() {
        let p = Path::new("/x");
        let none: [Candidate; 0] = [];
        let picked = select(p, None, &none, Loose::RepoAndTag);
        assert!(matches!(picked, Err(StoreError::NoImage(_))));
        assert_eq!(
            select(p, None, &[image(&[], "d")], Loose::RepoAndTag).unwrap(),
            0
        );
        let two = [image(&["a"], "1"), image(&[], "sha256:2")];
        let err = select(p, None, &two, Loose::SameReference).unwrap_err();
        assert_eq!(
            err.to_string(),
            "/x holds several images; name one of: a, sha256:2"
        );
        let err = select(p, Some("c"), &two, Loose::RepoAndTag).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no image named \"c\" in /x (it has: a, sha256:2)"
        );
    }
}
