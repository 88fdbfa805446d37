//! The image model every layer shares: media types, descriptors, raw manifests with their
//! parsed views, platform selection, and the source/destination traits a transfer runs over.
//! It knows nothing of HTTP, files or terminals: registry, store and engine build on it.

pub mod descriptor;
pub mod destination;
pub mod manifest;
pub mod media;
pub mod platform;
pub mod source;
pub mod verified;

pub use descriptor::Descriptor;
pub use destination::{BlobProgress, Destination, OpenBlob};
pub use manifest::{ImageIndex, ImageManifest, RawManifest};
pub use platform::{Platform, PlatformChoice, PlatformError};
pub use source::{BlobReader, Source, WholeBlobInstead};
pub use verified::Verified;
