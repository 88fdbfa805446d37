//! config.json written byte for byte as the Docker CLI writes it: Go's `json.MarshalIndent`
//! with tabs, fields in the order of Docker's `ConfigFile` struct, map keys sorted, Go's
//! escaping of `<`, `>`, `&`, U+2028 and U+2029, and no trailing newline.
//!
//! Fields Docker does not know are kept (Docker drops them) and written after its own.

use serde_json::{Map, Value};

/// Docker CLI 28's `ConfigFile` fields in declaration order (checked against `docker logout`,
/// which rewrites the file without a daemon). All but `auths` are `omitempty`.
const CONFIG_FIELDS: &[&str] = &[
    "auths",
    "HttpHeaders",
    "psFormat",
    "imagesFormat",
    "networksFormat",
    "pluginsFormat",
    "volumesFormat",
    "statsFormat",
    "detachKeys",
    "credsStore",
    "credHelpers",
    "serviceInspectFormat",
    "servicesFormat",
    "tasksFormat",
    "secretFormat",
    "configFormat",
    "nodesFormat",
    "pruneFilters",
    "proxies",
    "currentContext",
    "cliPluginsExtraDirs",
    "plugins",
    "aliases",
    "features",
    "experimental",
];

/// `AuthConfig` as saved: username and password are folded into `auth`, `serveraddress` dropped.
const AUTH_FIELDS: &[&str] = &["auth", "email", "identitytoken", "registrytoken"];
const PROXY_FIELDS: &[&str] = &["httpProxy", "httpsProxy", "noProxy", "ftpProxy", "allProxy"];

/// Which Go shape a value has, deciding its key order.
#[derive(Clone, Copy)]
enum Shape {
    /// A Go map: keys sorted.
    Map(&'static Shape),
    /// A Go struct: fixed field order, empty fields omitted.
    Struct(&'static [&'static str]),
    /// Anything else, and fields Docker does not know: written as found.
    Verbatim,
}

const SORTED: Shape = Shape::Map(&Shape::Verbatim);
const SORTED_MAPS: Shape = Shape::Map(&SORTED);
const AUTHS: Shape = Shape::Map(&Shape::Struct(AUTH_FIELDS));
const PROXIES: Shape = Shape::Map(&Shape::Struct(PROXY_FIELDS));

fn field_shape(name: &str) -> Shape {
    match name {
        "auths" => AUTHS,
        "proxies" => PROXIES,
        "plugins" => SORTED_MAPS,
        "HttpHeaders" | "credHelpers" | "aliases" | "features" => SORTED,
        _ => Shape::Verbatim,
    }
}

/// Serialises a whole config (already normalised: see `DockerConfig::to_docker_bytes`).
pub fn config_to_string(config: &Map<String, Value>) -> String {
    let mut out = String::new();
    let empty = Value::Object(Map::new());
    let mut fields: Vec<(&str, &Value, Shape)> = Vec::new();
    for name in CONFIG_FIELDS {
        match config.get(*name) {
            Some(v) if *name == "auths" || !is_empty(v) => {
                fields.push((name, v, field_shape(name)))
            }
            None if *name == "auths" => fields.push((name, &empty, AUTHS)),
            _ => {}
        }
    }
    for (name, value) in config {
        if !CONFIG_FIELDS.contains(&name.as_str()) {
            fields.push((name, value, Shape::Verbatim));
        }
    }
    write_fields(&mut out, &fields, 0);
    out
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        Value::Bool(b) => !b,
        Value::Number(_) => false,
    }
}

fn write_fields(out: &mut String, fields: &[(&str, &Value, Shape)], depth: usize) {
    if fields.is_empty() {
        out.push_str("{}");
        return;
    }
    out.push('{');
    for (i, (name, value, shape)) in fields.iter().enumerate() {
        out.push('\n');
        indent(out, depth + 1);
        write_string(out, name);
        out.push_str(": ");
        write_value(out, value, *shape, depth + 1);
        if i + 1 < fields.len() {
            out.push(',');
        }
    }
    out.push('\n');
    indent(out, depth);
    out.push('}');
}

fn write_value(out: &mut String, value: &Value, shape: Shape, depth: usize) {
    match (value, shape) {
        (Value::Object(map), Shape::Map(inner)) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let fields: Vec<(&str, &Value, Shape)> = keys
                .iter()
                .map(|k| (k.as_str(), &map[*k], *inner))
                .collect();
            write_fields(out, &fields, depth);
        }
        (Value::Object(map), Shape::Struct(order)) => {
            let fields: Vec<(&str, &Value, Shape)> = order
                .iter()
                .filter_map(|k| {
                    map.get(*k)
                        .filter(|v| !is_empty(v))
                        .map(|v| (*k, v, Shape::Verbatim))
                })
                .collect();
            write_fields(out, &fields, depth);
        }
        (Value::Object(map), Shape::Verbatim) => {
            let fields: Vec<(&str, &Value, Shape)> = map
                .iter()
                .map(|(k, v)| (k.as_str(), v, Shape::Verbatim))
                .collect();
            write_fields(out, &fields, depth);
        }
        (Value::Array(items), _) if items.is_empty() => out.push_str("[]"),
        (Value::Array(items), _) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                out.push('\n');
                indent(out, depth + 1);
                write_value(out, item, Shape::Verbatim, depth + 1);
                if i + 1 < items.len() {
                    out.push(',');
                }
            }
            out.push('\n');
            indent(out, depth);
            out.push(']');
        }
        (Value::String(s), _) => write_string(out, s),
        (other, _) => out.push_str(&other.to_string()),
    }
}

fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push('\t');
    }
}

/// Go's `encoding/json` string escaping, HTML-safe as `json.Marshal` does by default.
pub fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(json: &str) -> String {
        config_to_string(
            serde_json::from_str::<Value>(json)
                .unwrap()
                .as_object()
                .unwrap(),
        )
    }

    #[test]
    fn empty_config_has_auths() {
        assert_eq!(render("{}"), "{\n\t\"auths\": {}\n}");
    }

    #[test]
    fn order_sorting_and_escaping() {
        let out = render(
            r#"{"zz":1,"credHelpers":{"b":"x","a":"y"},"psFormat":"<a&b>","credsStore":"pass",
                "auths":{"z.io":{"email":"e","auth":"dTpw"},"a.io":{}}}"#,
        );
        let expected = "{\n\t\"auths\": {\n\t\t\"a.io\": {},\n\t\t\"z.io\": {\n\t\t\t\"auth\": \"dTpw\",\n\t\t\t\"email\": \"e\"\n\t\t}\n\t},\n\t\"psFormat\": \"\\u003ca\\u0026b\\u003e\",\n\t\"credsStore\": \"pass\",\n\t\"credHelpers\": {\n\t\t\"a\": \"y\",\n\t\t\"b\": \"x\"\n\t},\n\t\"zz\": 1\n}";
        assert_eq!(out, expected);
    }

    #[test]
    fn go_escapes_control_characters() {
        let mut s = String::new();
        write_string(&mut s, "a\u{8}\u{c}\u{2028}\"\\");
        assert_eq!(s, r#""a\u0008\u000c\u2028\"\\""#);
    }
}
