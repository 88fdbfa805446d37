//! What a transfer has finished so far. It lives outside the command, in `main`, so that
//! after Ctrl-C drops the command mid-flight hoist can still say what was done and what
//! the next run will pick up.

use super::progress::{describe, human_bytes};
use crate::engine::report::BlobOutcome;
use crate::types::Digest;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

#[derive(Default)]
pub struct Tally {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Blobs started and not finished, with the bytes moved so far.
    in_flight: HashMap<Digest, u64>,
    /// Finished blobs per outcome ("Pulled", "Layer already exists"), and their bytes.
    finished: BTreeMap<String, (usize, u64)>,
    /// Where unfinished downloads wait for the next run, when there is such a place.
    resume_dir: Option<PathBuf>,
}

impl Tally {
    /// Unfinished downloads are kept under `dir` for the next run to resume.
    pub fn set_resume_dir(&self, dir: &Path) {
        self.state.lock().unwrap().resume_dir = Some(dir.to_path_buf());
    }

    pub fn started(&self, digest: &Digest) {
        self.state
            .lock()
            .unwrap()
            .in_flight
            .insert(digest.clone(), 0);
    }

    pub fn progressed(&self, digest: &Digest, bytes: u64) {
        if let Some(done) = self.state.lock().unwrap().in_flight.get_mut(digest) {
            *done += bytes;
        }
    }

    pub fn reset(&self, digest: &Digest) {
        if let Some(done) = self.state.lock().unwrap().in_flight.get_mut(digest) {
            *done = 0;
        }
    }

    pub fn finished(&self, digest: &Digest, size: u64, outcome: &BlobOutcome) {
        let mut state = self.state.lock().unwrap();
        state.in_flight.remove(digest);
        let label = match outcome {
            // "Pulled (resumed at 3 MiB)" would split the count by offset.
            BlobOutcome::Resumed { .. } => describe(&BlobOutcome::Downloaded),
            other => describe(other),
        };
        let entry = state.finished.entry(label).or_default();
        entry.0 += 1;
        entry.1 += size;
    }

    /// One paragraph for stderr after an interrupt.
    pub fn interrupted_summary(&self) -> String {
        let state = self.state.lock().unwrap();
        let done: usize = state.finished.values().map(|(n, _)| n).sum();
        if done == 0 && state.in_flight.is_empty() {
            return "interrupted before any data moved; nothing was changed".into();
        }
        let kinds: Vec<String> = state
            .finished
            .iter()
            .map(|(label, (n, _))| format!("{n} {}", label.to_lowercase()))
            .collect();
        let bytes: u64 = state.finished.values().map(|(_, b)| b).sum();
        let mut lines = vec![format!(
            "interrupted: {done} {} finished{}",
            plural(done, "blob", "blobs"),
            if kinds.is_empty() {
                String::new()
            } else {
                format!(" ({}), {}", kinds.join(", "), human_bytes(bytes))
            }
        )];
        if !state.in_flight.is_empty() {
            let n = state.in_flight.len();
            let moved: u64 = state.in_flight.values().sum();
            let kept = match &state.resume_dir {
                Some(dir) => format!(
                    "; what arrived is kept in {} for the next run to resume",
                    dir.display()
                ),
                None => String::new(),
            };
            lines.push(format!(
                "{n} {} stopped part-way after {}{kept}",
                plural(n, "blob", "blobs"),
                human_bytes(moved)
            ));
        }
        lines.push(
            "the image is complete only once hoist prints its digest: run the same command again to finish; finished blobs are not transferred again"
                .into(),
        );
        lines.join("\n")
    }
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 {
        one
    } else {
        many
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_moved() {
        let t = Tally::default();
        assert_eq!(
            t.interrupted_summary(),
            "interrupted before any data moved; nothing was changed"
        );
    }

    #[test]
    fn counts_finished_and_unfinished_blobs() {
        let t = Tally::default();
        let (a, b, c, d) = (
            Digest::of(b"a"),
            Digest::of(b"b"),
            Digest::of(b"c"),
            Digest::of(b"d"),
        );
        t.set_resume_dir(Path::new("store/.hoist/partial"));
        for x in [&a, &b, &c, &d] {
            t.started(x);
        }
        t.finished(&a, 1024, &BlobOutcome::Downloaded);
        t.finished(&b, 1024, &BlobOutcome::Resumed { from: 10 });
        t.finished(&c, 10, &BlobOutcome::AlreadyPresent);
        t.progressed(&d, 4096);
        let s = t.interrupted_summary();
        assert!(
            s.starts_with(
                "interrupted: 3 blobs finished (1 already present, 2 pulled), 2.0 KiB\n\
                 1 blob stopped part-way after 4.0 KiB; what arrived is kept in store/.hoist/partial"
            ),
            "{s}"
        );
        t.reset(&d);
        assert!(t.interrupted_summary().contains("after 0 B"));
    }
}
