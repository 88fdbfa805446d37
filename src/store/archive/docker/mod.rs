//! docker-archive, `docker save`'s classic format: reading one to push (`read.rs`) and
//! writing one from a pulled image (`write.rs`). The two share only the format.

mod read;
mod write;

pub(super) use read::{read, Image};
pub use write::{write_docker_archive, ArchiveOptions, BlobFiles, LayerForm};
