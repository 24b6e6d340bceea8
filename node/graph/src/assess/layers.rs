//! `[architecture] layers`: the repository's layers, highest first, each an entry naming
//! the files in it. An entry with a glob character (`*?[{`) is a glob matched against
//! the whole repository-relative path (`*` stays within one directory, `**` crosses
//! them); any other entry is a directory (or file) prefix: `node` holds `node/src/a.rs`
//! but not `nodes/a.rs`. A file matched by several entries belongs to the longest entry
//! (the most specific: `node/graph` before `node`); a file no entry matches is in no
//! layer and is never a violation.

use globset::{Glob, GlobBuilder, GlobMatcher};

/// One entry of the layer order, checked when the configuration loads.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LayerPattern {
    text: String,
    glob: Option<GlobMatcher>,
}

impl PartialEq for LayerPattern {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl LayerPattern {
    /// Parses an entry; the message says what is wrong with it.
    pub fn parse(text: &str) -> Result<LayerPattern, String> {
        let trimmed = text.trim().trim_end_matches('/');
        if trimmed.is_empty() {
            return Err(format!(
                "layer {text:?} is empty: name a directory or a glob"
            ));
        }
        if trimmed.starts_with('/')
            || trimmed.split('/').any(|p| p == "..")
            || trimmed.contains('\\')
        {
            return Err(format!(
                "layer {text:?}: use a repository-relative path with `/`, without a leading `/` or `..`"
            ));
        }
        let glob = if trimmed.contains(['*', '?', '[', '{']) {
            let glob: Glob = GlobBuilder::new(trimmed)
                .literal_separator(true)
                .build()
                .map_err(|e| format!("layer {text:?}: bad glob: {e}"))?;
            Some(glob.compile_matcher())
        } else {
            None
        };
        Ok(LayerPattern {
            text: trimmed.to_string(),
            glob,
        })
    }

    /// The entry as written (trimmed).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the repository-relative `path` is in this layer.
    pub fn matches(&self, path: &str) -> bool {
        match &self.glob {
            Some(glob) => glob.is_match(path),
            None => crate::scan::is_under(path, &self.text),
        }
    }
}

impl TryFrom<String> for LayerPattern {
    type Error = String;
    fn try_from(text: String) -> Result<LayerPattern, String> {
        LayerPattern::parse(&text)
    }
}

impl From<LayerPattern> for String {
    fn from(value: LayerPattern) -> String {
        value.text
    }
}

/// The index (0 = highest) of the layer `path` belongs to: the longest matching entry,
/// the first of equally long ones.
pub fn layer_of(layers: &[LayerPattern], path: &str) -> Option<usize> {
    let mut best: Option<usize> = None;
    for (i, layer) in layers.iter().enumerate() {
        if layer.matches(path) && best.is_none_or(|b| layer.text.len() > layers[b].text.len()) {
            best = Some(i);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layers(entries: &[&str]) -> Vec<LayerPattern> {
        entries
            .iter()
            .map(|e| LayerPattern::parse(e).expect("valid entry"))
            .collect()
    }

    #[test]
    fn the_most_specific_entry_wins_and_prefixes_stop_at_directories() {
        let l = layers(&["cli", "node", "node/graph/", "kernel", "**/tests/*.rs"]);
        assert_eq!(layer_of(&l, "cli/src/main.rs"), Some(0));
        assert_eq!(layer_of(&l, "node/src/config.rs"), Some(1));
        assert_eq!(layer_of(&l, "node/graph/src/lib.rs"), Some(2));
        assert_eq!(
            layer_of(&l, "nodes/a.rs"),
            None,
            "a prefix ends at a directory"
        );
        assert_eq!(
            layer_of(&l, "kernel/tests/chain.rs"),
            Some(4),
            "the glob is longer"
        );
        assert_eq!(layer_of(&l, "README.md"), None);
    }

    #[test]
    fn bad_entries_are_refused_with_the_reason() {
        for (entry, says) in [
            ("", "empty"),
            ("/abs", "repository-relative"),
            ("a/../b", "repository-relative"),
            ("src/[a", "bad glob"),
        ] {
            let err = LayerPattern::parse(entry).expect_err("refused");
            assert!(err.contains(says), "{entry}: {err}");
        }
    }
}
