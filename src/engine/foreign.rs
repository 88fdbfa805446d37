//! Foreign and non-distributable layers (Windows base layers): their bytes live at the
//! descriptor's `urls`, not in the registry, which answers BLOB_UNKNOWN for them. A pull keeps
//! the descriptor (the manifest is stored byte for byte), skips the blob and says so once per
//! layer; push never uploads one (they are not among `ImageManifest::blobs`).

use super::report::{BlobOutcome, BlobResult, Reporter};
use crate::image::Descriptor;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

/// The foreign layers a pull meets, each once, reported as skipped.
pub struct Foreign {
    reporter: Arc<dyn Reporter>,
    found: Mutex<(HashSet<crate::types::Digest>, Vec<Descriptor>)>,
}

impl Foreign {
    pub fn new(reporter: Arc<dyn Reporter>) -> Foreign {
        Foreign {
            reporter,
            found: Mutex::new((HashSet::new(), Vec::new())),
        }
    }

    /// Notes `layers` (an image's foreign layers) for [`Foreign::skipped`].
    pub fn found(&self, layers: impl IntoIterator<Item = Descriptor>) {
        let mut found = self.found.lock().unwrap_or_else(|e| e.into_inner());
        let (seen, list) = &mut *found;
        list.extend(layers.into_iter().filter(|l| seen.insert(l.digest.clone())));
    }

    /// One result per foreign layer, each reported as finished: skipped.
    pub fn skipped(self) -> Vec<BlobResult> {
        let (_, layers) = self.found.into_inner().unwrap_or_else(|e| e.into_inner());
        layers
            .into_iter()
            .map(|descriptor| {
                let outcome = BlobOutcome::SkippedForeign;
                self.reporter
                    .blob_finished(&descriptor.digest, descriptor.size, &outcome);
                BlobResult {
                    descriptor,
                    outcome,
                }
            })
            .collect()
    }
}
