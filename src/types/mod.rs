//! Small value types every layer shares.

pub mod digest;
pub mod escape;
pub mod secret;

pub use digest::{Digest, DigestHasher};
pub use escape::escape_control;
pub use secret::Secret;
