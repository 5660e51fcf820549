//! `discovery.*`: components that find scrape targets and export them as
//! `targets`, a `list(map(string))` that `discovery.relabel`,
//! `prometheus.scrape` and friends read through the control plane.
//!
//! `discovery.file` and `discovery.http` both read Prometheus *target groups*
//! (`[{"targets": ["host:port", …], "labels": {…}}, …]`), from files and from
//! an HTTP endpoint. The group parsing and the flattening of groups into
//! Alloy targets live here so that the two kinds agree exactly: each target
//! is one object `{"__address__" = "host:port", <group labels>…}`, where the
//! target's own `__address__` wins over a group label of the same name (as
//! Prometheus merges a target with its group's labels).
//!
//! `discovery.relabel` (in `relabel.rs`) rewrites such target lists.

pub mod file;
pub mod http;
pub mod relabel;

use std::collections::BTreeMap;

use crate::syntax::{Object, Value};

/// The label every target carries its address in.
pub const ADDRESS_LABEL: &str = "__address__";

/// One Prometheus target group: addresses sharing a set of labels.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetGroup {
    /// The `host:port` addresses, in source order.
    pub targets: Vec<String>,
    /// The labels shared by every target of the group.
    pub labels: BTreeMap<String, String>,
}

/// Parse the JSON form of a list of target groups (file SD's `.json`
/// files, HTTP SD's response body). As Go's `encoding/json`, unknown fields
/// are ignored; a top-level `null` is an empty list.
pub fn parse_json_groups(bytes: &[u8]) -> Result<Vec<TargetGroup>, String> {
    let doc: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    let items = match doc {
        serde_json::Value::Null => return Ok(Vec::new()),
        serde_json::Value::Array(items) => items,
        other => {
            return Err(format!(
                "expected a list of target groups, got {}",
                json_kind(&other)
            ))
        }
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| json_group(item).map_err(|e| format!("target group {i}: {e}")))
        .collect()
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "an object",
    }
}

fn json_group(item: &serde_json::Value) -> Result<TargetGroup, String> {
    let fields = match item {
        serde_json::Value::Object(fields) => fields,
        serde_json::Value::Null => return Err("nil target group item found".to_string()),
        other => return Err(format!("expected an object, got {}", json_kind(other))),
    };
    let mut group = TargetGroup::default();
    match fields.get("targets") {
        None | Some(serde_json::Value::Null) => {}
        Some(serde_json::Value::Array(targets)) => {
            for t in targets {
                match t {
                    serde_json::Value::String(s) => group.targets.push(s.clone()),
                    other => {
                        return Err(format!(
                            "\"targets\" must hold strings, got {}",
                            json_kind(other)
                        ))
                    }
                }
            }
        }
        Some(other) => {
            return Err(format!(
                "\"targets\" must be a list, got {}",
                json_kind(other)
            ))
        }
    }
    match fields.get("labels") {
        None | Some(serde_json::Value::Null) => {}
        Some(serde_json::Value::Object(labels)) => {
            for (name, value) in labels {
                check_label_name(name)?;
                match value {
                    serde_json::Value::String(s) => {
                        group.labels.insert(name.clone(), s.clone());
                    }
                    other => {
                        return Err(format!(
                            "label {name:?} must be a string, got {}",
                            json_kind(other)
                        ))
                    }
                }
            }
        }
        Some(other) => {
            return Err(format!(
                "\"labels\" must be an object, got {}",
                json_kind(other)
            ))
        }
    }
    Ok(group)
}

/// Parse the YAML form of a list of target groups (file SD's `.yml` and
/// `.yaml` files). As Prometheus' strict YAML decoding, unknown fields are
/// errors; scalars are read as their text (`- 9100` is the string `"9100"`).
pub fn parse_yaml_groups(bytes: &[u8]) -> Result<Vec<TargetGroup>, String> {
    let doc: serde_yaml::Value = serde_yaml::from_slice(bytes).map_err(|e| e.to_string())?;
    let items = match doc {
        serde_yaml::Value::Null => return Ok(Vec::new()),
        serde_yaml::Value::Sequence(items) => items,
        _ => return Err("expected a list of target groups".to_string()),
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| yaml_group(item).map_err(|e| format!("target group {i}: {e}")))
        .collect()
}

fn yaml_scalar(v: &serde_yaml::Value) -> Option<String> {
    match v {
        serde_yaml::Value::String(s) => Some(s.clone()),
        serde_yaml::Value::Number(n) => Some(n.to_string()),
        serde_yaml::Value::Bool(b) => Some(b.to_string()),
        serde_yaml::Value::Null => Some(String::new()),
        _ => None,
    }
}

fn yaml_group(item: &serde_yaml::Value) -> Result<TargetGroup, String> {
    let fields = match item {
        serde_yaml::Value::Mapping(fields) => fields,
        serde_yaml::Value::Null => return Err("nil target group item found".to_string()),
        _ => return Err("expected a mapping".to_string()),
    };
    let mut group = TargetGroup::default();
    for (key, value) in fields {
        let key = key.as_str().unwrap_or_default();
        match key {
            "targets" => match value {
                serde_yaml::Value::Null => {}
                serde_yaml::Value::Sequence(targets) => {
                    for t in targets {
                        let s = yaml_scalar(t)
                            .ok_or_else(|| "\"targets\" must hold strings".to_string())?;
                        group.targets.push(s);
                    }
                }
                _ => return Err("\"targets\" must be a list".to_string()),
            },
            "labels" => match value {
                serde_yaml::Value::Null => {}
                serde_yaml::Value::Mapping(labels) => {
                    for (name, value) in labels {
                        let name = yaml_scalar(name)
                            .ok_or_else(|| "label names must be strings".to_string())?;
                        check_label_name(&name)?;
                        let value = yaml_scalar(value)
                            .ok_or_else(|| format!("label {name:?} must be a string"))?;
                        group.labels.insert(name, value);
                    }
                }
                _ => return Err("\"labels\" must be a mapping".to_string()),
            },
            other => return Err(format!("field {other} not found in target group")),
        }
    }
    Ok(group)
}

/// Prometheus (UTF-8 name validation) accepts any non-empty label name.
fn check_label_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        Err("\"\" is not a valid label name".to_string())
    } else {
        Ok(())
    }
}

/// Flatten target groups into Alloy targets, in order: each target is an
/// object of string labels, the group's labels plus `extra` (the source's
/// meta label, which overrides a group label of the same name, as
/// Prometheus sets it on the group) plus its `__address__` (which wins
/// over both). Returns the `list(map(string))` value to export.
pub fn targets_value<'a>(
    groups: impl IntoIterator<Item = &'a TargetGroup>,
    extra: &[(&str, &str)],
) -> Value {
    let mut out = Vec::new();
    for group in groups {
        let mut base: Object = group
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), Value::string(v.as_str())))
            .collect();
        for (k, v) in extra {
            base.insert((*k).to_string(), Value::string(*v));
        }
        for address in &group.targets {
            let mut target = base.clone();
            target.insert(ADDRESS_LABEL.to_string(), Value::string(address.as_str()));
            out.push(Value::Object(target));
        }
    }
    Value::Array(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_groups() {
        let groups = parse_json_groups(
            br#"[{"targets": ["a:1", "b:2"], "labels": {"env": "dev", "__address__": "x"}}, {"targets": []}, {"labels": null, "targets": ["c:3"], "extra": 1}]"#,
        )
        .expect("valid");
        assert_eq!(groups.len(), 3);
        let targets = targets_value(&groups, &[("__meta_url", "http://h/sd")]);
        let Value::Array(items) = targets else {
            panic!("array")
        };
        assert_eq!(items.len(), 3);
        assert_eq!(
            items[0],
            Value::object([
                ("__address__", Value::string("a:1")),
                ("__meta_url", Value::string("http://h/sd")),
                ("env", Value::string("dev")),
            ])
        );
        assert_eq!(
            items[2],
            Value::object([
                ("__address__", Value::string("c:3")),
                ("__meta_url", Value::string("http://h/sd")),
            ])
        );
    }

    #[test]
    fn json_errors() {
        assert!(parse_json_groups(b"[null]").is_err());
        assert!(parse_json_groups(b"{}").is_err());
        assert!(parse_json_groups(br#"[{"targets": [1]}]"#).is_err());
        assert!(parse_json_groups(br#"[{"labels": {"a": 1}}]"#).is_err());
        assert!(parse_json_groups(b"[{").is_err());
        assert_eq!(parse_json_groups(b"null"), Ok(Vec::new()));
    }

    #[test]
    fn yaml_groups() {
        let groups =
            parse_yaml_groups(b"- targets: ['a:1', 9100]\n  labels:\n    env: prod\n    n: 3\n")
                .expect("valid");
        assert_eq!(
            groups,
            vec![TargetGroup {
                targets: vec!["a:1".into(), "9100".into()],
                labels: [("env".into(), "prod".into()), ("n".into(), "3".into())]
                    .into_iter()
                    .collect(),
            }]
        );
        assert!(parse_yaml_groups(b"- targets: [a]\n  bogus: 1\n").is_err());
        assert!(parse_yaml_groups(b"targets: [a]\n").is_err());
    }
}
