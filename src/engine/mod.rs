//! The work of a pull or a push: plan the blobs, move them through the one transfer loop
//! ([`transfer`]) from an image source to a destination, and report progress through
//! [`report::Reporter`].

pub mod copy;
pub mod destination;
pub mod foreign;
pub mod inspect;
pub mod layout_destination;
pub mod mirrors;
pub mod pull;
pub mod push;
pub mod referrers;
pub mod remote;
pub mod remote_destination;
pub mod report;
pub mod transfer;
