//! Speaking the distribution `/v2/` protocol: the transport, authentication, and the requests
//! of a pull or push. Credentials come in through
//! [`CredentialSource`](crate::credentials::CredentialSource), asked only when a registry
//! challenges us. Nothing here writes to the terminal or reads files.

pub mod auth;
pub mod blobs;
pub mod client;
pub mod error;
pub mod manifests;
pub mod rate_limit;
pub mod referrers;
pub mod tags;
pub mod timeouts;
pub(crate) mod transport;
pub mod trust;

// The auth modules keep their old paths for the parsers' fuzz targets and callers.
pub use auth::{challenge, scope, token};
pub use client::RegistryClient;
pub use error::RegistryError;
pub use scope::Scope;
pub use timeouts::{Notice, Timeouts};
pub use transport::{BodySource, ClientOptions, RequestLog, RequestRecord};
pub use trust::{HostPolicy, HostTls};
