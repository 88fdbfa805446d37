//! What `main` prints for a failed command: the error and the causes that add something.
//! It only formats; `main` writes the lines and picks the exit code.

use crate::registry::error::RegistryError;
use crate::types::escape_control;

/// `error: …` then one `  Caused by: …` per cause. A cause that the line above already
/// quotes (a message built as "PATH: {source}" that also keeps its source) is left out, so
/// `os error 30` is said once. Every line is escaped: causes may quote the wire or a file.
/// A host that cannot be reached is said in one line, in place of reqwest's own chain below
/// it, unless `debug` asks for the whole chain.
pub fn lines(error: &anyhow::Error, debug: bool) -> Vec<String> {
    let mut shown = String::new();
    let mut lines = Vec::new();
    for (i, cause) in error.chain().enumerate() {
        let unreachable = cause
            .downcast_ref::<RegistryError>()
            .and_then(RegistryError::unreachable)
            .filter(|_| !debug);
        let text = unreachable.clone().unwrap_or_else(|| cause.to_string());
        if i > 0 && (text.is_empty() || shown.contains(&text)) {
            continue;
        }
        let prefix = if i == 0 { "error: " } else { "  Caused by: " };
        lines.push(format!("{prefix}{}", escape_control(&text)));
        if unreachable.is_some() {
            break;
        }
        shown = text;
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("{path}: {source}")]
    struct Quoting {
        path: String,
        #[source]
        source: std::io::Error,
    }

    #[test]
    fn a_cause_quoted_by_the_line_above_is_said_once() {
        let io = std::io::Error::from_raw_os_error(30);
        let error = anyhow::Error::new(Quoting {
            path: "/s/blobs".into(),
            source: io,
        })
        .context("opening hoist's store at /s");
        let lines = lines(&error, false);
        assert_eq!(lines.len(), 2, "{lines:#?}");
        assert_eq!(lines[0], "error: opening hoist's store at /s");
        assert!(
            lines[1].starts_with("  Caused by: /s/blobs: "),
            "{lines:#?}"
        );
        assert_eq!(lines.concat().matches("os error 30").count(), 1);
    }

    #[test]
    fn distinct_causes_are_all_kept_and_escaped() {
        let error = anyhow::anyhow!("root \x1b[31m").context("top");
        assert_eq!(
            lines(&error, false),
            ["error: top", "  Caused by: root \\x1b[31m"]
        );
    }
}
