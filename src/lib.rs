//! hoist: log in to container registries, pull and push images, with no Docker daemon.
//!
//! Dependencies point down: commands → engine → registry → credentials/types;
//! config, store and ui sit beside them. Nothing below `commands` writes to the terminal.

pub mod credentials;
pub mod reference;
pub mod store;
pub mod types;
