//! [`Descriptor`]: what a manifest or index says of one blob or manifest. Fields hoist does not
//! read are kept, so an entry read and written again (index.json, an index) loses nothing.

use super::platform::Platform;
use crate::types::Digest;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct Descriptor {
    #[serde(rename = "mediaType", default)]
    pub media_type: String,
    pub digest: Digest,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    /// Where a foreign layer lives instead of the registry.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// Everything else (`artifactType`, `data`, other tools' fields), as it was.
    #[serde(flatten)]
    pub unknown: serde_json::Map<String, serde_json::Value>,
}

impl Descriptor {
    pub fn new(media_type: impl Into<String>, digest: Digest, size: u64) -> Descriptor {
        Descriptor {
            media_type: media_type.into(),
            digest,
            size,
            platform: None,
            urls: Vec::new(),
            annotations: BTreeMap::new(),
            unknown: Default::default(),
        }
    }

    /// A foreign or non-distributable layer: it lives at its `urls`, not in the registry, so
    /// no transfer asks a registry for it or uploads it.
    pub fn is_foreign(&self) -> bool {
        super::media::is_foreign_layer(&self.media_type)
    }

    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations.get(key).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_survive_a_round_trip() {
        let d = Digest::of(b"x");
        let json = format!(
            r#"{{"mediaType":"m","digest":"{d}","size":1,"artifactType":"a","data":"eA==","annotations":{{"k":"v"}},"platform":{{"os":"linux","architecture":"amd64","os.version":"1"}}}}"#
        );
        let parsed: Descriptor = serde_json::from_str(&json).unwrap();
        assert_eq!(parsed.annotation("k"), Some("v"));
        assert_eq!(parsed.unknown["artifactType"], "a");
        let again: serde_json::Value = serde_json::to_value(&parsed).unwrap();
        let original: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(again, original);
    }
}
