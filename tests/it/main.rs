//! Integration tests for hoist: they drive the built binary against real
//! registries started by the support code.

mod bounds;
mod cred_helpers;
mod docker_cli;
mod docs;
mod errors;
mod files;
mod interrupt;
mod json_output;
mod lifecycle;
mod login;
mod overlap;
mod promote;
mod proxy_env;
mod pull;
mod push;
mod push_faults;
mod quirks;
mod readme;
mod restricted;
mod rtt;
mod runs;
mod secrets;
mod support;
mod terminal;
mod testbed;
mod tls;
mod trust;
mod usage;
