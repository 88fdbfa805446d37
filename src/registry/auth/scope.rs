//! Token scopes (`repository:NAME:pull,push`), merged so one token covers a whole operation.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Scope {
    pub repository: String,
    /// Sorted and deduplicated: `pull`, `push`, …
    pub actions: Vec<String>,
}

impl Scope {
    pub fn pull(repository: &str) -> Scope {
        Scope::new(repository, &["pull"])
    }

    pub fn push(repository: &str) -> Scope {
        Scope::new(repository, &["pull", "push"])
    }

    pub fn new(repository: &str, actions: &[&str]) -> Scope {
        let mut actions: Vec<String> = actions.iter().map(|a| a.to_string()).collect();
        actions.sort();
        actions.dedup();
        Scope {
            repository: repository.to_string(),
            actions,
        }
    }

    /// Parses `repository:NAME:a,b` as found in a challenge's `scope` parameter.
    pub fn parse(s: &str) -> Option<Scope> {
        let rest = s.strip_prefix("repository:")?;
        let (name, actions) = rest.rsplit_once(':')?;
        let actions: Vec<&str> = actions.split(',').filter(|a| !a.is_empty()).collect();
        Some(Scope::new(name, &actions))
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "repository:{}:{}",
            self.repository,
            self.actions.join(",")
        )
    }
}

/// Parses a challenge's `scope`, which names every scope the request needed separated by
/// spaces (distribution's `insufficient_scope` answer to a mount lists the target and the
/// source repository); pieces that are not repository scopes are skipped.
pub fn parse_list(s: &str) -> Vec<Scope> {
    s.split_whitespace().filter_map(Scope::parse).collect()
}

/// Unions scopes per repository so a token request names each repository once.
pub fn merge(scopes: impl IntoIterator<Item = Scope>) -> Vec<Scope> {
    let mut merged: Vec<Scope> = Vec::new();
    for scope in scopes {
        match merged.iter_mut().find(|m| m.repository == scope.repository) {
            Some(m) => {
                m.actions.extend(scope.actions);
                m.actions.sort();
                m.actions.dedup();
            }
            None => merged.push(scope),
        }
    }
    merged.sort();
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_parse_round_trip() {
        let s = Scope::new("a/b", &["push", "pull"]);
        assert_eq!(s.to_string(), "repository:a/b:pull,push");
        assert_eq!(Scope::parse("repository:a/b:pull,push"), Some(s));
        assert_eq!(Scope::parse("registry:catalog:*"), None);
    }

    #[test]
    fn challenge_scope_lists_several_separated_by_spaces() {
        assert_eq!(
            parse_list("repository:team/dst:pull,push repository:other/src:pull"),
            [
                Scope::new("team/dst", &["pull", "push"]),
                Scope::new("other/src", &["pull"])
            ]
        );
        assert_eq!(
            parse_list("registry:catalog:* repository:a:pull"),
            [Scope::pull("a")]
        );
    }

    #[test]
    fn merge_unions_actions_per_repository() {
        let m = merge([Scope::pull("dst"), Scope::pull("src"), Scope::push("dst")]);
        assert_eq!(
            m.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            ["repository:dst:pull,push", "repository:src:pull"]
        );
    }
}
