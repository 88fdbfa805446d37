//! How the engines tell the outside world what they are doing, without knowing about terminals.
//! The [`Reporter`] only draws progress; what a transfer did comes back in its result.

use crate::image::Descriptor;
use crate::types::Digest;

/// How one blob ended up where it needed to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobOutcome {
    Downloaded,
    /// Resumed from a partial download left by an earlier run.
    Resumed {
        from: u64,
    },
    AlreadyPresent,
    Pushed,
    /// Streamed from one registry to another.
    Copied,
    Mounted {
        from: String,
    },
    AlreadyExists,
    /// A foreign layer, left at its `urls`: its descriptor stays in the manifest.
    SkippedForeign,
}

/// One blob of a finished transfer and how it got where it needed to be.
#[derive(Debug, Clone, PartialEq)]
pub struct BlobResult {
    pub descriptor: Descriptor,
    pub outcome: BlobOutcome,
}

pub trait Reporter: Send + Sync {
    /// Every blob the transfer covers is known: how many, and their bytes together.
    fn planned(&self, _blobs: usize, _bytes: u64) {}
    fn blob_started(&self, digest: &Digest, size: u64);
    /// `bytes` more have moved (may be negative progress on restart: then `reset` is called).
    fn blob_progress(&self, digest: &Digest, bytes: u64);
    fn blob_reset(&self, digest: &Digest);
    /// The blob goes on from `offset`: bytes already in place (kept from an earlier run, or
    /// sent before a retry), so they count as done but not as moved now.
    fn blob_resumed_at(&self, digest: &Digest, offset: u64) {
        self.blob_reset(digest);
        self.blob_progress(digest, offset);
    }
    fn blob_finished(&self, digest: &Digest, size: u64, outcome: &BlobOutcome);
}

/// For tests and `--quiet`.
pub struct Silent;

impl Reporter for Silent {
    fn blob_started(&self, _: &Digest, _: u64) {}
    fn blob_progress(&self, _: &Digest, _: u64) {}
    fn blob_reset(&self, _: &Digest) {}
    fn blob_finished(&self, _: &Digest, _: u64, _: &BlobOutcome) {}
}
