//! `weft init` (SOP 1): make a git repository a weft node.
//!
//! Creates `.weftos/` and its subdirectories, the node key, the genesis event and the
//! bootstrap tree; writes a `weave.toml` from what it detects unless one exists; adds the
//! `.weftos/` entries to `.gitignore` once. Running it again changes nothing and says so.
//! Everything is checked before anything is written, so a refusal leaves no trace.

use crate::config::{render_initial, ProjectConfig, WeaveConfig};
use crate::layout::{Layout, GITIGNORE_ENTRIES, SUBDIRS};
use crate::NodeError;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use weft_kernel::keys::{NodeKey, NODE_KEY_FILE};
use weft_kernel::tree::Tree;
use weft_kernel::{Chain, Store};

/// What `init` did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct InitReport {
    /// Repository root.
    pub root: PathBuf,
    /// Things created or changed, in order; empty when everything was already there.
    pub created: Vec<String>,
    /// Detected project facts (also in `weave.toml` when it was written).
    pub project: ProjectConfig,
    /// Chain id.
    pub chain_id: String,
    /// Key fingerprint.
    pub key_fingerprint: String,
}

impl InitReport {
    /// True when nothing had to be done.
    pub fn unchanged(&self) -> bool {
        self.created.is_empty()
    }
}

/// Maps a file extension to a language name.
pub fn language_of(ext: &str) -> Option<&'static str> {
    Some(match ext {
        "rs" => "rust",
        "py" | "pyi" => "python",
        "js" | "mjs" | "cjs" | "jsx" => "javascript",
        "ts" | "tsx" | "mts" | "cts" => "typescript",
        "go" => "go",
        "java" => "java",
        "kt" | "kts" => "kotlin",
        "c" | "h" => "c",
        "cc" | "cpp" | "cxx" | "hpp" | "hh" => "cpp",
        "cs" => "csharp",
        "rb" => "ruby",
        "swift" => "swift",
        "php" => "php",
        "scala" => "scala",
        "sh" | "bash" => "shell",
        _ => return None,
    })
}

/// Detects name, languages (by file count), source directories and default branch.
pub fn detect(root: &Path, repo: &git2::Repository) -> ProjectConfig {
    let mut by_language: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut by_dir: BTreeMap<String, usize> = BTreeMap::new();
    let walker = ignore::WalkBuilder::new(root)
        .hidden(true)
        .git_ignore(true)
        .require_git(false)
        .filter_entry(|e| e.file_name() != crate::layout::WEFTOS && e.file_name() != ".git")
        .build();
    for entry in walker.flatten() {
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let path = entry.path();
        let Some(lang) = path
            .extension()
            .and_then(|e| e.to_str())
            .and_then(language_of)
        else {
            continue;
        };
        *by_language.entry(lang).or_default() += 1;
        if let Ok(rel) = path.strip_prefix(root) {
            let mut parts = rel.components();
            let first = parts
                .next()
                .map(|c| c.as_os_str().to_string_lossy().into_owned());
            if let (Some(dir), Some(_)) = (first, parts.next()) {
                *by_dir.entry(dir).or_default() += 1;
            }
        }
    }
    let mut languages: Vec<(&str, usize)> = by_language.into_iter().collect();
    languages.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let mut dirs: Vec<(String, usize)> = by_dir.into_iter().collect();
    dirs.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    ProjectConfig {
        name: root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "project".into()),
        languages: languages.into_iter().map(|(l, _)| l.to_string()).collect(),
        source_dirs: dirs.into_iter().take(8).map(|(d, _)| d).collect(),
        default_branch: default_branch(repo),
    }
}

fn default_branch(repo: &git2::Repository) -> String {
    let short = |name: &str, prefix: &str| name.strip_prefix(prefix).map(str::to_string);
    if let Ok(r) = repo.find_reference("refs/remotes/origin/HEAD") {
        if let Some(target) = r
            .symbolic_target()
            .and_then(|t| short(t, "refs/remotes/origin/"))
        {
            return target;
        }
    }
    if let Ok(head) = repo.find_reference("HEAD") {
        if let Some(target) = head.symbolic_target().and_then(|t| short(t, "refs/heads/")) {
            return target;
        }
    }
    "main".into()
}

/// Runs `weft init` in the repository containing `start`.
pub fn init(start: &Path) -> Result<InitReport, NodeError> {
    let Scaffold {
        root,
        layout,
        project,
        key,
        mut created,
        chain_exists,
    } = scaffold(start)?;
    let chain = if chain_exists {
        Chain::open(Arc::new(Store::open(&layout.chain())?), Some(key.clone()))?
    } else {
        let chain = Chain::create(
            Arc::new(Store::create(&layout.chain())?),
            key.clone(),
            &project.name,
        )?;
        Tree::new(&chain).bootstrap()?;
        created.push("genesis event and bootstrap tree".into());
        chain
    };
    let genesis = chain.genesis().ok_or(weft_kernel::ChainError::Empty)?;
    let (_, written) = crate::identity::write_identity(&layout, &project.name, &genesis)?;
    if written {
        created.push(format!(".weftos/{}", crate::layout::IDENTITY_FILE));
    }
    Ok(InitReport {
        root,
        created,
        project,
        chain_id: genesis.chain_id.to_hex(),
        key_fingerprint: key.fingerprint(),
    })
}

/// What [`scaffold`] set up.
pub struct Scaffold {
    /// Repository root.
    pub root: PathBuf,
    /// Its layout.
    pub layout: Layout,
    /// The project facts.
    pub project: ProjectConfig,
    /// The node key (created if there was none).
    pub key: NodeKey,
    /// What was created.
    pub created: Vec<String>,
    /// Whether a chain store already exists.
    pub chain_exists: bool,
}

/// Everything `init` sets up but the chain: `.weftos/` and its subdirectories, the
/// `.gitignore` entries, `weave.toml` when there is none, and the node key. A cluster
/// member joining starts from this and gets its chain from the cluster.
pub fn scaffold(start: &Path) -> Result<Scaffold, NodeError> {
    let repo =
        git2::Repository::discover(start).map_err(|_| NodeError::NotGit(start.to_path_buf()))?;
    let root = repo
        .workdir()
        .ok_or_else(|| NodeError::NotGit(start.to_path_buf()))?
        .canonicalize()
        .map_err(|e| NodeError::io(start, e))?;
    let layout = Layout::new(&root);

    // Check before writing anything.
    let config_exists = layout.config().exists();
    let project = if config_exists {
        WeaveConfig::load(&root)?.project
    } else {
        detect(&root, &repo)
    };
    let key_path = layout.keys().join(NODE_KEY_FILE);
    let chain_exists = layout.chain().join("CURRENT").exists();
    if chain_exists && !key_path.exists() {
        return Err(NodeError::KeyLost(key_path));
    }
    let gitignore = root.join(".gitignore");
    let existing_ignore = match std::fs::read_to_string(&gitignore) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(NodeError::io(&gitignore, e)),
    };

    let mut created = Vec::new();
    for sub in SUBDIRS {
        let dir = layout.weftos().join(sub);
        if !dir.exists() {
            // Durably: a power cut must not take `.weftos/` (and the key and chain in it)
            // from the repository after init has said it made them.
            weft_kernel::atomic::create_dir_durably(&dir).map_err(|e| NodeError::io(&dir, e))?;
            created.push(format!(".weftos/{sub}/"));
        }
    }
    layout.restrict_to_owner()?;
    let missing: Vec<&str> = GITIGNORE_ENTRIES
        .iter()
        .copied()
        .filter(|entry| !existing_ignore.lines().any(|l| l.trim() == *entry))
        .collect();
    if !missing.is_empty() {
        let mut text = existing_ignore.clone();
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str("# weft: local node state and the private key never belong in a commit\n");
        for entry in &missing {
            text.push_str(entry);
            text.push('\n');
        }
        // Synced before the key exists: a lost `.weftos/keys/` line could let a later
        // `git add -A` commit the private key.
        weft_kernel::atomic::write_atomically(&gitignore, text.as_bytes())
            .map_err(|e| NodeError::io(&gitignore, e))?;
        created.push(format!(".gitignore (+{})", missing.join(" ")));
    }
    if !config_exists {
        weft_kernel::atomic::write_atomically(
            &layout.config(),
            render_initial(&project).as_bytes(),
        )
        .map_err(|e| NodeError::io(&layout.config(), e))?;
        created.push("weave.toml".into());
    }
    let key = if key_path.exists() {
        NodeKey::load_from(&layout.keys())?
    } else {
        created.push(".weftos/keys/node.ed25519".into());
        NodeKey::create_in(&layout.keys())?
    };
    Ok(Scaffold {
        root,
        layout,
        project,
        key,
        created,
        chain_exists,
    })
}

/// Creates an empty git repository at `dir` (used by the demo and tests).
pub fn git_init(dir: &Path) -> Result<(), NodeError> {
    git2::Repository::init(dir)
        .map_err(|e| NodeError::Input(format!("git init {}: {e}", dir.display())))?;
    Ok(())
}
