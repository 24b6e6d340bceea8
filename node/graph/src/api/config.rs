//! PUBLIC CONFIGURATION: the keys of the files a project declares users set
//! (`[analysis] public_config`) compared between two revisions, read from git blobs. A
//! key users set that is gone or takes another type breaks them like a removed function;
//! a renamed key is a removal and an addition (nothing tells a rename from two changes).
//! Keys are compared by path across all YAML documents of a file (a document inserted
//! before others does not renumber anything).

use super::rules::{rules, Rule};
use super::{blob_text, ApiError, Class};
use crate::config_schema::{ConfigFacts, ConfigFormat, Malformed, ValueType};
use crate::KnowledgeGraph;
use git2::{Oid, Repository};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

rules! {
    RULES:
    KEY_REMOVED = "config/key-removed", Breaking, "A key of a public configuration file is gone: users who set it break (a renamed key is reported removed and added).";
    KEY_RETYPED = "config/key-retyped", Breaking, "A key of a public configuration file no longer takes a type it took (e.g. a string became a table).";
    KEY_TYPE_WIDENED = "config/key-type-widened", Additive, "A key of a public configuration file takes a type it did not take before, and every type it took.";
    KEY_ADDED = "config/key-added", Additive, "A public configuration file has a new key.";
}

/// What happened to a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConfigChangeKind {
    /// The key is gone.
    Removed,
    /// The key's value types changed.
    Retyped,
    /// The key is new.
    Added,
}

/// One changed key of a public configuration file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigChange {
    /// The file.
    pub path: String,
    /// Key path (docs/formats.md).
    pub key: String,
    /// What happened.
    pub change: ConfigChangeKind,
    /// Value types at the base (empty: the key is new).
    pub before: Vec<ValueType>,
    /// Value types at the head (empty: the key is gone).
    pub after: Vec<ValueType>,
    /// Line at the head; at the base for a removed key.
    pub line: u32,
    /// How it reaches users.
    pub class: Class,
    /// Id of the rule that classified it.
    pub rule: String,
    /// Why, where the rule needs saying (a file that does not parse at the head).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A file's keys at one revision: types and first line per path, over all documents.
#[derive(Default)]
struct Schema {
    keys: BTreeMap<String, (BTreeSet<ValueType>, u32)>,
    malformed: Option<Malformed>,
}

impl Schema {
    fn of(facts: ConfigFacts) -> Schema {
        let mut keys: BTreeMap<String, (BTreeSet<ValueType>, u32)> = BTreeMap::new();
        for key in facts.keys {
            let entry = keys.entry(key.path).or_insert((BTreeSet::new(), key.line));
            entry.0.insert(key.value);
            entry.1 = entry.1.min(key.line);
        }
        Schema {
            keys,
            malformed: facts.malformed,
        }
    }
}

fn schema(
    graph: &KnowledgeGraph,
    repo: &Repository,
    side: Option<&(Oid, ConfigFormat)>,
) -> Result<Schema, ApiError> {
    let Some((id, format)) = side else {
        return Ok(Schema::default());
    };
    let Some(text) = blob_text(repo, *id) else {
        return Ok(Schema::default());
    };
    Ok(Schema::of(graph.config_of(*format, &text)?))
}

/// Compares the public configuration files of two revisions (path → blob and format).
pub(super) fn diff(
    graph: &KnowledgeGraph,
    repo: &Repository,
    old: &BTreeMap<String, (Oid, ConfigFormat)>,
    new: &BTreeMap<String, (Oid, ConfigFormat)>,
) -> Result<Vec<ConfigChange>, ApiError> {
    let mut out = Vec::new();
    let paths: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    for path in paths {
        let (o, n) = (old.get(path), new.get(path));
        if o.map(|x| x.0) == n.map(|x| x.0) {
            continue;
        }
        let (before, after) = (schema(graph, repo, o)?, schema(graph, repo, n)?);
        compare(path, &before, &after, &mut out);
    }
    Ok(out)
}

/// The changes between one file's keys at two revisions (the assessment compares the
/// working tree with the last release this way).
pub fn key_changes(path: &str, before: &ConfigFacts, after: &ConfigFacts) -> Vec<ConfigChange> {
    let mut out = Vec::new();
    compare(
        path,
        &Schema::of(before.clone()),
        &Schema::of(after.clone()),
        &mut out,
    );
    out
}

fn compare(path: &str, before: &Schema, after: &Schema, out: &mut Vec<ConfigChange>) {
    let note = after.malformed.as_ref().map(|m| {
        format!(
            "the file does not parse at the head (line {}: {}): keys after it may be missing",
            m.line, m.message
        )
    });
    let change = |key: &str,
                  kind,
                  rule: &'static Rule,
                  b: Option<&BTreeSet<ValueType>>,
                  a: Option<&BTreeSet<ValueType>>,
                  line| ConfigChange {
        path: path.to_string(),
        key: key.to_string(),
        change: kind,
        before: b.map(|t| t.iter().copied().collect()).unwrap_or_default(),
        after: a.map(|t| t.iter().copied().collect()).unwrap_or_default(),
        line,
        class: rule.class,
        rule: rule.id.to_string(),
        note: None,
    };
    for (key, (types, line)) in &before.keys {
        let found = match after.keys.get(key) {
            None => Some(change(
                key,
                ConfigChangeKind::Removed,
                KEY_REMOVED,
                Some(types),
                None,
                *line,
            )),
            Some((now, _)) if now == types => None,
            Some((now, at)) => {
                let rule = if types.is_subset(now) {
                    KEY_TYPE_WIDENED
                } else {
                    KEY_RETYPED
                };
                Some(change(
                    key,
                    ConfigChangeKind::Retyped,
                    rule,
                    Some(types),
                    Some(now),
                    *at,
                ))
            }
        };
        if let Some(mut c) = found {
            if c.class == Class::Breaking {
                c.note.clone_from(&note);
            }
            out.push(c);
        }
    }
    for (key, (types, line)) in &after.keys {
        if !before.keys.contains_key(key) {
            out.push(change(
                key,
                ConfigChangeKind::Added,
                KEY_ADDED,
                None,
                Some(types),
                *line,
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config_schema::extract;

    fn changes(
        format: ConfigFormat,
        old: &str,
        new: &str,
    ) -> Vec<(String, ConfigChangeKind, Class)> {
        let side = |t: &str| Schema::of(extract(format, t).expect("extract"));
        let mut out = Vec::new();
        compare("c", &side(old), &side(new), &mut out);
        out.into_iter()
            .map(|c| (c.key, c.change, c.class))
            .collect()
    }

    #[test]
    fn a_renamed_key_is_removed_and_added_and_a_retyped_one_breaks() {
        let got = changes(
            ConfigFormat::Toml,
            "[server]\nport = 1\nhost = \"a\"\nmode = 1\n",
            "[server]\nlisten_port = 1\nhost = { name = \"a\" }\nmode = 1\n",
        );
        assert!(got.contains(&(
            "server.port".into(),
            ConfigChangeKind::Removed,
            Class::Breaking
        )));
        assert!(got.contains(&(
            "server.listen_port".into(),
            ConfigChangeKind::Added,
            Class::Additive
        )));
        assert!(got.contains(&(
            "server.host".into(),
            ConfigChangeKind::Retyped,
            Class::Breaking
        )));
        assert!(got.contains(&(
            "server.host.name".into(),
            ConfigChangeKind::Added,
            Class::Additive
        )));
        assert!(
            !got.iter().any(|c| c.0 == "server.mode" || c.0 == "server"),
            "{got:?}"
        );
    }

    #[test]
    fn a_key_taking_a_type_more_is_additive_and_values_alone_change_nothing() {
        let got = changes(
            ConfigFormat::Json,
            r#"{"a": [1], "b": "x"}"#,
            r#"{"a": [1, "two"], "b": "y"}"#,
        );
        assert_eq!(
            got,
            vec![("a[]".into(), ConfigChangeKind::Retyped, Class::Additive)]
        );
    }

    #[test]
    fn yaml_documents_are_compared_as_one_schema() {
        let got = changes(
            ConfigFormat::Yaml,
            "kind: Service\n---\nkind: Deployment\nspec: {replicas: 1}\n",
            "kind: Namespace\n---\nkind: Service\n---\nkind: Deployment\nspec: {replicas: 2}\n",
        );
        assert!(got.is_empty(), "{got:?}");
    }
}
