//! Small value types every layer shares.

pub mod digest;
pub mod secret;

pub use digest::{Digest, DigestHasher};
pub use secret::Secret;
