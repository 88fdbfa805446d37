//! The one loop over an in-memory source into a layout: each blob once, in the order given,
//! a partial from an earlier run resumed, and a source that starts over followed.

use super::*;
use crate::engine::layout_destination::LayoutDestination;
use crate::engine::report::Silent;
use crate::image::{media, RawManifest};
use crate::store::layout::Layout;
use futures_util::future::BoxFuture;
use std::collections::HashMap;
use std::io::Cursor;

struct Memory {
    top: RawManifest,
    blobs: HashMap<Digest, Vec<u8>>,
    /// Answers a read from an offset with the whole blob, as a registry ignoring Range does.
    ignores_offsets: bool,
}

impl Source for Memory {
    fn top(&self) -> &RawManifest {
        &self.top
    }
    fn children(&self) -> &[RawManifest] {
        &[]
    }
    fn open_blob(
        &self,
        digest: &Digest,
        offset: u64,
    ) -> BoxFuture<'static, std::io::Result<BlobReader>> {
        let bytes = self.blobs[digest].clone();
        let ignores = self.ignores_offsets;
        Box::pin(async move {
            if ignores && offset > 0 {
                return Err(WholeBlobInstead::error(
                    offset,
                    Box::new(Cursor::new(bytes)),
                ));
            }
            let rest = bytes[offset as usize..].to_vec();
            Ok(Box::new(Cursor::new(rest)) as BlobReader)
        })
    }
}

fn source(contents: &[&[u8]], ignores_offsets: bool) -> (Arc<Memory>, Vec<Descriptor>) {
    let blobs: HashMap<Digest, Vec<u8>> = contents
        .iter()
        .map(|c| (Digest::of(c), c.to_vec()))
        .collect();
    let descriptors = contents
        .iter()
        .map(|c| Descriptor::new(media::OCI_LAYER_GZIP, Digest::of(c), c.len() as u64))
        .collect();
    let top = RawManifest::new(b"{}".to_vec(), media::OCI_MANIFEST);
    let memory = Memory {
        top,
        blobs,
        ignores_offsets,
    };
    (Arc::new(memory), descriptors)
}

async fn pull(layout: &Layout, source: Arc<Memory>, blobs: &[Descriptor]) -> Vec<BlobOutcome> {
    let destination = LayoutDestination::new(layout.clone());
    let transfer = Transfer {
        destination: &destination,
        source,
        reporter: Arc::new(Silent),
        direction: Direction::Pull {
            from: "memory".into(),
        },
        jobs: AUTO_JOBS,
    };
    let results = transfer.all(blobs).await.unwrap();
    results.into_iter().map(|r| r.outcome).collect()
}

/// What an interrupted earlier run left of `bytes`: its first `kept` bytes, parked.
async fn park(layout: &Layout, bytes: &[u8], kept: usize) {
    let digest = Digest::of(bytes);
    let mut writer = layout
        .begin_blob(&digest, Some(bytes.len() as u64))
        .await
        .unwrap();
    writer.write(&bytes[..kept]).await.unwrap();
}

#[tokio::test]
async fn each_blob_once_in_order_resuming_what_an_earlier_run_left() {
    let tmp = tempfile::tempdir().unwrap();
    let layout = Layout::create_or_open(tmp.path()).await.unwrap();
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let (memory, mut blobs) = source(&[b"config", &big, b"present"], false);
    layout.put_blob_bytes(b"present").await.unwrap();
    park(&layout, &big, 1_000_000).await;
    // Named twice, moved once.
    blobs.push(blobs[1].clone());
    let outcomes = pull(&layout, memory, &blobs).await;
    assert_eq!(
        outcomes,
        [
            BlobOutcome::Downloaded,
            BlobOutcome::Resumed { from: 1_000_000 },
            BlobOutcome::AlreadyPresent,
        ]
    );
    assert_eq!(
        std::fs::read(layout.blob_path(&blobs[1].digest)).unwrap(),
        big
    );
}

#[tokio::test]
async fn a_source_that_starts_over_is_followed_from_byte_zero() {
    let tmp = tempfile::tempdir().unwrap();
    let layout = Layout::create_or_open(tmp.path()).await.unwrap();
    let blob = vec![7u8; 100_000];
    let (memory, blobs) = source(&[&blob], true);
    park(&layout, &blob, 40_000).await;
    // Nothing of the earlier run is kept, so it is a download, not a resume.
    assert_eq!(
        pull(&layout, memory, &blobs).await,
        [BlobOutcome::Downloaded]
    );
    assert_eq!(
        std::fs::read(layout.blob_path(&blobs[0].digest)).unwrap(),
        blob
    );
}
