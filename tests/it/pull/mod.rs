//! `hoist pull` against real registries: the CNCF distribution registry in
//! open, Basic and token modes, skopeo as the peer that pushes images and
//! reads what hoist wrote, and a fault-injecting proxy in between.

mod faults;
mod platforms;
mod redirect;
mod resume;
mod sources;

use crate::support::images::ImageSpec;

pub(crate) fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => panic!("test images only have amd64 and arm64, host is {other}"),
    }
}

/// A one-layer image big enough for a cut in the middle of the layer.
pub(crate) fn one_big_layer(seed_n: u64) -> ImageSpec {
    ImageSpec::new(seed_n).layers(&[256 * 1024])
}
