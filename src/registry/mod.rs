//! Speaking the distribution `/v2/` protocol: challenges, tokens, and the requests of a pull
//! or push. Credentials come in through [`CredentialSource`](crate::credentials::CredentialSource),
//! asked only when a registry challenges us.

pub mod blobs;
pub mod challenge;
pub mod client;
pub mod error;
pub mod manifests;
pub mod scope;
pub mod timeouts;
pub mod token;
pub mod trust;

pub use client::{BodySource, ClientOptions, RegistryClient, RequestLog, RequestRecord};
pub use error::RegistryError;
pub use scope::Scope;
pub use timeouts::{Notice, Timeouts};
pub use trust::{HostPolicy, HostTls};
