//! The work of a pull or a push: plan the blobs, move them with bounded parallelism,
//! deduplicated per digest, and report progress through [`report::Reporter`].

pub mod destination;
pub mod pull;
pub mod push;
pub mod remote;
pub mod remote_destination;
pub mod report;
