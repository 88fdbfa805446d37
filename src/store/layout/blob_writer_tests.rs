//! Tests of the streaming blob writer: verify, park, resume, restart.

use super::*;

#[tokio::test]
async fn verified_write_commits() {
    let tmp = tempfile::tempdir().unwrap();
    let l = Layout::create_or_open(tmp.path()).await.unwrap();
    let data = vec![7u8; 300_000];
    let d = Digest::of(&data);
    let mut w = l.begin_blob(&d, Some(data.len() as u64)).await.unwrap();
    assert_eq!(w.offset(), 0);
    assert!(matches!(
        l.begin_blob(&d, None).await,
        Err(StoreError::BlobBusy(_))
    ));
    for chunk in data.chunks(65536) {
        w.write(chunk).await.unwrap();
    }
    assert_eq!(w.commit().await.unwrap(), data.len() as u64);
    assert_eq!(l.has_blob(&d).await, Some(data.len() as u64));
    assert!(!tmp.path().join(".hoist/partial").join(d.hex()).exists());
    // The claim is released once the writer is gone.
    l.begin_blob(&d, None).await.unwrap().abort().await.unwrap();
}

#[tokio::test]
async fn long_blobs_pass_through_many_buffers() {
    let tmp = tempfile::tempdir().unwrap();
    let l = Layout::create_or_open(tmp.path()).await.unwrap();
    // Past the writeback step, in chunks that never line up with a buffer's end.
    let len = WRITEBACK as usize + 3 * BATCH + 12_345;
    let data: Vec<u8> = (0..len as u32).map(|i| (i % 253) as u8).collect();
    let d = Digest::of(&data);
    let cut = len / 2 + 777;
    let mut w = l.begin_blob(&d, Some(len as u64)).await.unwrap();
    for chunk in data[..cut].chunks(100_003) {
        w.write(chunk).await.unwrap();
    }
    assert_eq!(w.offset(), cut as u64);
    // Everything handed over is on disk once the writer is gone, buffered bytes included.
    drop(w);
    let parked = tmp.path().join(".hoist/partial").join(d.hex());
    assert_eq!(std::fs::metadata(&parked).unwrap().len(), cut as u64);
    let mut w = l.begin_blob(&d, Some(len as u64)).await.unwrap();
    assert_eq!(w.offset(), cut as u64);
    for chunk in data[cut..].chunks(2 * BATCH + 1) {
        w.write(chunk).await.unwrap();
    }
    assert_eq!(w.commit().await.unwrap(), len as u64);
    assert_eq!(std::fs::read(l.blob_path(&d)).unwrap(), data);
}

#[tokio::test]
async fn mismatch_leaves_nothing_behind() {
    let tmp = tempfile::tempdir().unwrap();
    let l = Layout::create_or_open(tmp.path()).await.unwrap();
    let expected = Digest::of(b"right");
    let mut w = l.begin_blob(&expected, None).await.unwrap();
    w.write(b"wrong").await.unwrap();
    let err = w.commit().await.unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains(&expected.to_string()), "{msg}");
    assert!(msg.contains(&Digest::of(b"wrong").to_string()), "{msg}");
    assert!(matches!(err, StoreError::DigestMismatch { .. }));
    assert_eq!(
        std::fs::read_dir(tmp.path().join("blobs/sha256"))
            .unwrap()
            .count(),
        0
    );
    assert_eq!(
        std::fs::read_dir(tmp.path().join(".hoist/partial"))
            .unwrap()
            .count(),
        0
    );

    // Too many bytes for the announced size fails on the write itself.
    let mut w = l.begin_blob(&expected, Some(5)).await.unwrap();
    w.write(b"righ").await.unwrap();
    assert!(matches!(
        w.write(b"tt").await,
        Err(StoreError::SizeMismatch { .. })
    ));
    drop(w);
    assert_eq!(
        std::fs::read_dir(tmp.path().join(".hoist/partial"))
            .unwrap()
            .count(),
        0
    );
}

#[tokio::test]
async fn resumes_by_rehashing_then_appending() {
    let tmp = tempfile::tempdir().unwrap();
    let l = Layout::create_or_open(tmp.path()).await.unwrap();
    let data: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    let d = Digest::of(&data);
    let mut w = l.begin_blob(&d, Some(data.len() as u64)).await.unwrap();
    w.write(&data[..400_000]).await.unwrap();
    drop(w); // interrupted: partial stays
    let mut w = l.begin_blob(&d, Some(data.len() as u64)).await.unwrap();
    assert_eq!(w.offset(), 400_000);
    w.write(&data[400_000..]).await.unwrap();
    w.commit().await.unwrap();
    assert_eq!(std::fs::read(l.blob_path(&d)).unwrap(), data);

    // A server that ignores Range: restart and take the whole body.
    let d2 = Digest::of(b"hello world");
    let mut w = l.begin_blob(&d2, None).await.unwrap();
    w.write(b"hello").await.unwrap();
    drop(w);
    let mut w = l.begin_blob(&d2, None).await.unwrap();
    assert_eq!(w.offset(), 5);
    w.restart().await.unwrap();
    assert_eq!(w.offset(), 0);
    w.write(b"hello world").await.unwrap();
    w.commit().await.unwrap();
    assert_eq!(std::fs::read(l.blob_path(&d2)).unwrap(), b"hello world");

    // A partial longer than the blob can be is thrown away.
    std::fs::write(tmp.path().join(".hoist/partial").join(d2.hex()), [0u8; 20]).unwrap();
    let w = l.begin_blob(&d2, Some(11)).await.unwrap();
    assert_eq!(w.offset(), 0);
}
