//! Registry to registry through hoist's engine as a library: a registry image read as an
//! image source (`RemoteImage`), written by the same push loop to a registry destination
//! (`RemoteDestination`), then read back by skopeo and `hoist pull`.

use crate::push::assert_served;
use crate::support::images::ImageSpec;
use crate::support::registry::{Mode, RegistryServer};
use crate::support::scenario::seed;
use crate::support::tools::TestEnv;
use crate::support::{block_on, sha256_digest};
use hoist::credentials::Fixed;
use hoist::engine::push::{push, PushOptions};
use hoist::engine::remote::RemoteImage;
use hoist::engine::remote_destination::RemoteDestination;
use hoist::engine::report::{BlobOutcome, Silent};
use hoist::image::Source;
use hoist::reference::Reference;
use hoist::registry::{ClientOptions, RegistryClient, Scope};
use std::sync::Arc;
use tokio::io::AsyncReadExt;

fn client(reference: &Reference, scopes: Vec<Scope>) -> Arc<RegistryClient> {
    let options = ClientOptions {
        insecure: true,
        ..ClientOptions::default()
    };
    let client = RegistryClient::new(
        reference.registry().clone(),
        options,
        Arc::new(Fixed(None)),
        scopes,
    );
    Arc::new(client.unwrap())
}

async fn read_blob(source: &dyn Source, digest: &hoist::types::Digest, offset: u64) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut reader = source.open_blob(digest, offset).await.unwrap();
    reader.read_to_end(&mut bytes).await.unwrap();
    bytes
}

#[test]
fn a_registry_image_is_a_source_and_copies_to_another_registry() {
    let env = TestEnv::new();
    let from_registry = RegistryServer::start(Mode::Open);
    let to_registry = RegistryServer::start(Mode::Open);
    let seeded = seed(
        &from_registry.host(),
        "src/app:1",
        ImageSpec::new(31).layers(&[2048, 70_000]).multi_platform(),
        None,
    );
    let from = Reference::parse(&format!("{}/src/app:1", from_registry.host())).unwrap();
    let to = Reference::parse(&format!("{}/dst/app:copied", to_registry.host())).unwrap();

    let pushed = block_on(async {
        let reader = client(&from, vec![Scope::pull(from.repository())]);
        let source = RemoteImage::fetch(reader, &from).await.unwrap();
        assert_eq!(source.top().digest.to_string(), seeded.digest());
        assert_eq!(source.children().len(), 2, "both platforms' manifests");
        // Every blob opens, in full and from an offset, and is the bytes its digest names.
        let blobs = source.blobs().unwrap();
        assert!(!blobs.is_empty());
        for blob in &blobs {
            let bytes = read_blob(&source, &blob.digest, 0).await;
            assert_eq!(bytes.len() as u64, blob.size);
            assert_eq!(sha256_digest(&bytes), blob.digest.to_string());
            let tail = read_blob(&source, &blob.digest, blob.size / 2).await;
            assert_eq!(tail, bytes[bytes.len() / 2..]);
        }

        let writer = client(&to, vec![Scope::push(to.repository())]);
        let destination = RemoteDestination::new(writer, to.clone(), None);
        let options = PushOptions { jobs: 2 };
        push(&destination, Arc::new(source), &options, Arc::new(Silent))
            .await
            .unwrap()
    });
    assert_eq!(pushed.digest.to_string(), seeded.digest());
    assert!(!pushed.unchanged);
    assert!(pushed
        .blobs
        .iter()
        .all(|b| b.outcome == BlobOutcome::Copied));
    assert_served(&env, &to.to_string(), seeded.digest(), None);
}
