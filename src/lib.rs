//! hoist: log in to container registries, pull and push images, with no Docker daemon.
//!
//! Dependencies point down: commands → engine → registry → credentials/types;
//! config, store and ui sit beside them. Nothing below `commands` writes to the terminal.

pub mod cli;
pub mod commands;
pub mod config;
pub mod credentials;
pub mod docs;
pub mod engine;
pub mod fs;
#[doc(hidden)]
pub mod fuzzing;
pub mod image;
pub mod reference;
pub mod registry;
pub mod store;
pub mod types;
pub mod ui;
