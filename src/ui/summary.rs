//! `--json`: one object on stdout, in place of the bare digest, for scripts that want to know
//! what a pull or push did (which blobs moved, which were reused or mounted) without
//! scraping the status lines.

use crate::engine::report::{BlobOutcome, BlobResult};
use serde::Serialize;

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TransferSummary {
    /// The normalized reference (`docker.io/library/alpine:3.19`).
    pub reference: String,
    /// What the tag points at (an index for a multi-platform image): what hoist prints.
    pub digest: String,
    pub media_type: String,
    /// Pull: the manifest the destination's entry names, when a platform was picked from an index.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform_digest: Option<String>,
    /// Pull: the layout directory or tarball written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    /// Pull: `oci` or `docker-archive`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<&'static str>,
    /// Push: the tag already pointed at this digest, so nothing was sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unchanged: Option<bool>,
    pub blobs: Vec<BlobSummary>,
    /// Pull through mirrors: the `host[:port]` that served the manifest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

impl TransferSummary {
    /// Names the source of the manifest and of each blob (`None` for one not transferred).
    pub fn with_sources(mut self, manifest: String, blobs: Vec<Option<String>>) -> Self {
        self.source = Some(manifest);
        for (blob, source) in self.blobs.iter_mut().zip(blobs) {
            blob.source = source;
        }
        self
    }
}

#[derive(Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BlobSummary {
    pub digest: String,
    pub size: u64,
    /// `pulled`, `resumed`, `already-present`, `pushed`, `mounted` or `already-exists`.
    pub outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resumed_from: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mounted_from: Option<String>,
    /// Pull through mirrors: the `host[:port]` whose bytes were written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// The blobs of a finished transfer in the engine's order, each with how it got there: read
/// from what the engine returned, never from what the progress display saw.
pub fn blob_summaries(blobs: &[BlobResult]) -> Vec<BlobSummary> {
    blobs
        .iter()
        .map(|blob| {
            let (word, resumed_from, mounted_from) = match &blob.outcome {
                BlobOutcome::Downloaded => ("pulled", None, None),
                BlobOutcome::Resumed { from } => ("resumed", Some(*from), None),
                BlobOutcome::AlreadyPresent => ("already-present", None, None),
                BlobOutcome::Pushed => ("pushed", None, None),
                BlobOutcome::Copied => ("copied", None, None),
                BlobOutcome::Mounted { from } => ("mounted", None, Some(from.clone())),
                BlobOutcome::AlreadyExists => ("already-exists", None, None),
                BlobOutcome::SkippedForeign => ("skipped-foreign", None, None),
            };
            BlobSummary {
                digest: blob.descriptor.digest.to_string(),
                size: blob.descriptor.size,
                outcome: word,
                resumed_from,
                mounted_from,
                source: None,
            }
        })
        .collect()
}

impl TransferSummary {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("plain data serializes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::Descriptor;
    use crate::types::Digest;

    fn result(digest: &Digest, size: u64, outcome: BlobOutcome) -> BlobResult {
        BlobResult {
            descriptor: Descriptor::new(crate::image::media::OCI_LAYER_GZIP, digest.clone(), size),
            outcome,
        }
    }

    #[test]
    fn blobs_keep_the_engine_order_and_say_how_they_moved() {
        let (a, b, c) = (Digest::of(b"a"), Digest::of(b"b"), Digest::of(b"c"));
        let mounted = BlobOutcome::Mounted {
            from: "team/base".into(),
        };
        let blobs = [
            result(&a, 1, BlobOutcome::Resumed { from: 1 }),
            result(&b, 2, BlobOutcome::AlreadyExists),
            result(&c, 3, mounted),
        ];
        let summary = TransferSummary {
            reference: "example.com/team/app:1".into(),
            digest: Digest::of(b"m").to_string(),
            media_type: "application/vnd.oci.image.manifest.v1+json".into(),
            platform_digest: None,
            destination: None,
            format: None,
            unchanged: Some(false),
            blobs: blob_summaries(&blobs),
            source: None,
        };
        let json: serde_json::Value = serde_json::from_str(&summary.to_json()).unwrap();
        assert_eq!(json["reference"], "example.com/team/app:1");
        assert_eq!(json["unchanged"], false);
        assert!(json.get("destination").is_none());
        let outcomes: Vec<&str> = json["blobs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["outcome"].as_str().unwrap())
            .collect();
        assert_eq!(outcomes, ["resumed", "already-exists", "mounted"]);
        assert_eq!(json["blobs"][0]["resumedFrom"], 1);
        assert_eq!(json["blobs"][2]["mountedFrom"], "team/base");
        assert_eq!(json["blobs"][1]["digest"], b.to_string());
    }
}
