//! Man pages and shell completions, generated from the clap definitions so they cannot drift
//! from `--help`. `cargo run --example gen-docs` writes them; a test fails when they are stale.

mod completions;
mod man;

pub use completions::{completion_script, PLATFORMS};

use std::path::PathBuf;

/// Every generated file, as (path relative to the repository root, contents).
pub fn render() -> std::io::Result<Vec<(PathBuf, Vec<u8>)>> {
    let mut files = completions::files();
    files.extend(man::pages()?);
    Ok(files)
}

#[cfg(test)]
mod tests {
    /// The committed completions and man pages must match the CLI; regenerate with
    /// `cargo run --example gen-docs` after changing a flag or its help.
    #[test]
    fn committed_docs_are_current() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for (path, contents) in super::render().unwrap() {
            let committed = std::fs::read(root.join(&path)).unwrap_or_default();
            assert!(
                committed == contents,
                "{} is stale: run `cargo run --example gen-docs`",
                path.display()
            );
        }
    }
}
