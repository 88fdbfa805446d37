//! Integration tests for hoist: they drive the built binary against real
//! registries started by the support code.

mod pull;
mod support;
mod testbed;
