//! Integration tests for hoist: they drive the built binary against real
//! registries started by the support code.

mod readme;
mod restricted;
mod secrets;
mod support;
mod testbed;
mod tls;
