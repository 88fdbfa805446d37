//! What copy, inspect and tags print: copy's `--json` (push's summary and what a promotion
//! adds), an inspection for a person or as JSON, a tag list. Built from what the engine
//! returned; every string from the wire is escaped before it reaches a terminal.

use super::progress::human_bytes;
use super::summary::TransferSummary;
use crate::engine::inspect::{shown_digest, Inspection};
use crate::types::escape_control;
use serde::Serialize;
use serde_json::{json, Value};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CopySummary {
    #[serde(flatten)]
    pub transfer: TransferSummary,
    /// The source, fully qualified.
    pub source: String,
    /// `--tag`: the other tags the copy got.
    pub tags: Vec<String>,
    /// With `--platform` from an index: the index's digest, which was not kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index_digest: Option<String>,
    /// `--referrers`: each referrer copied, by digest, with the form it was found in.
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "referrers")]
    pub referrers: Vec<(String, &'static str)>,
}

fn referrers<S: serde::Serializer>(
    list: &[(String, &'static str)],
    s: S,
) -> Result<S::Ok, S::Error> {
    let list: Vec<Value> = list
        .iter()
        .map(|(digest, kind)| json!({ "digest": digest, "form": kind }))
        .collect();
    list.serialize(s)
}

impl CopySummary {
    pub fn new(
        transfer: TransferSummary,
        source: String,
        tags: Vec<String>,
        index_digest: Option<String>,
        referrers: Vec<(String, &'static str)>,
    ) -> CopySummary {
        CopySummary {
            transfer,
            source,
            tags,
            index_digest,
            referrers,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("plain data serializes")
    }
}

/// One tag a line (escaped), or `{"name": …, "tags": […]}`.
pub fn tag_list(name: &str, tags: &[String], json: bool) -> String {
    if json {
        let value = json!({ "name": name, "tags": tags });
        return serde_json::to_string_pretty(&value).expect("plain data serializes");
    }
    let lines: Vec<String> = tags
        .iter()
        .map(|t| escape_control(t).into_owned())
        .collect();
    lines.join("\n")
}

/// For a person: digest and media type; an index's platforms; an image's config facts and
/// its layers with their sizes and total.
pub fn inspection_text(name: &str, inspection: &Inspection) -> String {
    let top = &inspection.top;
    let mut lines = vec![
        format!("Name:       {}", escape_control(name)),
        format!("Digest:     {}", top.digest),
        format!("Media type: {}", escape_control(&top.media_type)),
    ];
    if top.is_index() {
        lines.push(format!("Platforms:  {}", inspection.entries.len()));
        for entry in &inspection.entries {
            let platform = entry
                .platform
                .as_ref()
                .map(|p| p.to_string())
                .unwrap_or_else(|| "-".into());
            let kind = entry
                .annotation("vnd.docker.reference.type")
                .map(|t| format!("  ({})", escape_control(t)))
                .unwrap_or_default();
            lines.push(format!(
                "  {:<16} {}  {}{kind}",
                escape_control(&platform),
                entry.digest,
                human_bytes(entry.size)
            ));
        }
    }
    let Some(image) = &inspection.image else {
        return lines.join("\n");
    };
    if image.manifest.digest != top.digest {
        lines.push(format!("Image:      {}", image.manifest.digest));
    }
    let facts = image.config.clone().unwrap_or_default();
    let text = |v: &Option<String>| escape_control(v.as_deref().unwrap_or("-")).into_owned();
    let platform = match (&facts.os, &facts.architecture) {
        (Some(os), Some(arch)) => {
            let variant = facts.variant.as_ref().map(|v| format!("/{v}"));
            format!("{os}/{arch}{}", variant.unwrap_or_default())
        }
        _ => "-".into(),
    };
    let words = |v: &Option<Vec<String>>| match v {
        Some(v) => escape_control(&serde_json::to_string(v).unwrap_or_default()).into_owned(),
        None => "-".into(),
    };
    lines.push(format!("Created:    {}", text(&facts.created)));
    lines.push(format!("Platform:   {}", escape_control(&platform)));
    lines.push(format!("Entrypoint: {}", words(&facts.config.entrypoint)));
    lines.push(format!("Cmd:        {}", words(&facts.config.cmd)));
    let labels = facts.config.labels.unwrap_or_default();
    lines.push(format!(
        "Labels:     {}",
        if labels.is_empty() { "-" } else { "" }
    ));
    for (k, v) in &labels {
        lines.push(format!("  {}={}", escape_control(k), escape_control(v)));
    }
    lines.push(format!("Config:     {}", image.config_descriptor.digest));
    lines.push(format!("Layers:     {}", image.layers.len()));
    for layer in &image.layers {
        lines.push(format!("  {}  {}", layer.digest, human_bytes(layer.size)));
    }
    lines.push(format!("Total size: {}", human_bytes(image.total_size())));
    lines.join("\n").trim_end().to_string()
}

/// The same as JSON: `digest` is what the command is about (the picked platform's image, else
/// the top), `indexDigest` the index it came from.
pub fn inspection_json(name: &str, inspection: &Inspection) -> String {
    let top = &inspection.top;
    let mut value = json!({
        "name": name,
        "digest": shown_digest(inspection).to_string(),
        "mediaType": top.media_type,
        "size": top.bytes.len(),
    });
    if top.is_index() {
        value["indexDigest"] = json!(top.digest.to_string());
        value["manifests"] = serde_json::to_value(&inspection.entries).unwrap_or(Value::Null);
    }
    if let Some(image) = &inspection.image {
        let facts = image.config.clone().unwrap_or_default();
        value["mediaType"] = json!(image.manifest.media_type);
        value["size"] = json!(image.manifest.bytes.len());
        value["created"] = json!(facts.created);
        value["os"] = json!(facts.os);
        value["architecture"] = json!(facts.architecture);
        value["variant"] = json!(facts.variant);
        value["labels"] = json!(facts.config.labels.unwrap_or_default());
        value["entrypoint"] = json!(facts.config.entrypoint);
        value["cmd"] = json!(facts.config.cmd);
        value["config"] = serde_json::to_value(&image.config_descriptor).unwrap_or(Value::Null);
        value["layers"] = serde_json::to_value(&image.layers).unwrap_or(Value::Null);
        value["totalSize"] = json!(image.total_size());
    }
    serde_json::to_string_pretty(&value).expect("plain data serializes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::inspect::ImageDetails;
    use crate::image::{media, Descriptor, RawManifest};
    use crate::types::Digest;

    #[test]
    fn text_from_the_wire_is_escaped_and_sizes_add_up() {
        let config = br#"{"os":"linux","architecture":"amd64","config":{"Labels":{"evil":"\u001b[2J"},"Cmd":["\u001b]0;x"]}}"#;
        let layer = |n: &[u8], size| Descriptor::new(media::OCI_LAYER_GZIP, Digest::of(n), size);
        let manifest = RawManifest::new(b"{}".to_vec(), media::OCI_MANIFEST);
        let inspection = Inspection {
            top: manifest.clone(),
            entries: Vec::new(),
            image: Some(ImageDetails {
                manifest,
                config_descriptor: Descriptor::new(media::OCI_CONFIG, Digest::of(config), 9),
                layers: vec![layer(b"a", 1024), layer(b"b", 2048)],
                config_bytes: config.to_vec(),
                config: serde_json::from_slice(config).ok(),
            }),
        };
        let text = inspection_text("reg/app:1", &inspection);
        assert!(!text.contains('\u{1b}'), "{text}");
        assert!(text.contains("evil=\\x1b[2J"), "{text}");
        assert!(text.contains("Total size: 3.0 KiB"), "{text}");
        let json: Value = serde_json::from_str(&inspection_json("reg/app:1", &inspection)).unwrap();
        assert_eq!(json["totalSize"], 3072);
        assert_eq!(json["labels"]["evil"], "\u{1b}[2J");
    }
}
