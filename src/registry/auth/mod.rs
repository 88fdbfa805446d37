//! Authentication with a registry: parsing its challenge, the scopes asked for, the token
//! exchange, and the per-registry session that ties them together. It lives under registry/
//! because it speaks through the registry's transport and reports its errors: a sibling
//! module would import registry while registry imports it.

pub mod challenge;
pub mod scope;
pub(crate) mod session;
pub mod token;
