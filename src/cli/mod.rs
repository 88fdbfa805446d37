//! The command line, in two steps: [`args`] holds what clap parses (and so the help, man pages
//! and completions); [`plan`] turns those arguments and one snapshot of the environment into a
//! checked plan per command. Nothing here talks to a registry or writes to the terminal.

pub mod args;
pub mod guide;
pub mod mirrors;
mod network;
pub mod plan;
mod promote_plan;
mod writable;

pub use args::*;
pub use network::{NetworkSettings, SYSTEM_CERTS_DIR};
pub use plan::UsageError;
