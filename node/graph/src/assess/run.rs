//! The assessment pipeline (SOP 2) up to its report: SCOPE → SCAN → ANALYZE → REPORT.
//! The trigger (CLI, hook, watcher, schedule, CI) chooses the scope; recording the report
//! on the chain (COMMIT) is the node's.

use super::report::{Report, ScopeInfo, Summary, REPORT_SCHEMA};
use super::rules::{self, ApiBaseline, Inputs};
use super::scope::{self, ScopeError, ScopeRequest};
use crate::config_schema::scan::ConfigFile;
use crate::config_schema::PublicConfig;
use crate::{deps, GraphError, KnowledgeGraph};
use std::path::{Path, PathBuf};
use weft_kernel::Hash;

/// Assessment failed.
#[derive(Debug, thiserror::Error)]
pub enum AssessError {
    /// Scope.
    #[error(transparent)]
    Scope(#[from] ScopeError),
    /// The knowledge graph.
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// `[analysis] public_config`.
    #[error(transparent)]
    PublicConfig(#[from] crate::config_schema::PublicConfigError),
    /// Writing or reading a report.
    #[error("{path}: {message}")]
    Report {
        /// File.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

/// Progress of the stages, for a terminal.
pub trait Stages {
    /// A stage starts with `total` steps (0: unknown).
    fn stage(&self, name: &str, total: u64);
    /// `done` steps of the current stage are finished.
    fn advance(&self, done: u64);
}

/// No progress shown.
#[derive(Debug)]
pub struct Quiet;

impl Stages for Quiet {
    fn stage(&self, _: &str, _: u64) {}
    fn advance(&self, _: u64) {}
}

/// Runs an assessment and returns the report (not yet written or recorded).
pub fn assess(
    graph: &KnowledgeGraph,
    request: &ScopeRequest,
    default_branch: &str,
    stages: &(dyn Stages + Sync),
) -> Result<Report, AssessError> {
    let repo = graph.repository()?;
    let resolved = scope::resolve(&repo, request, default_branch)?;
    stages.stage("scan", 0);
    let scan = graph.scan(&|done, total| {
        stages.stage("scan", total);
        stages.advance(done);
    })?;
    stages.stage("history", 0);
    let mining = graph.mining_config(None);
    let (history, _) = graph.history(&mining, &mut |done, total| {
        stages.stage("history", total);
        stages.advance(done);
    })?;
    let manifests = deps::manifests(graph.root());
    let dependency_issues = deps::dependency_issues(graph.root(), &manifests, &scan.files);
    let imports = crate::imports::ImportGraph::build(&scan.files, &manifests);
    let public_config = public_config_files(graph)?;
    let mut baseline = api_baseline(graph, &repo, resolved.changed.as_ref(), &scan)?;
    if let Some(baseline) = &mut baseline {
        config_baseline(
            graph,
            &repo,
            resolved.changed.as_ref(),
            &public_config,
            baseline,
        )?;
    }
    let config = &graph.config().rules;
    let rules = rules::active_rules(config);
    let findings = rules::run(
        &Inputs {
            scan: &scan,
            history: &history,
            mining: &mining,
            changed: resolved.changed.as_ref(),
            dependency_issues: &dependency_issues,
            baseline: baseline.as_ref(),
            public_config: &public_config,
            config,
            imports: &imports,
        },
        &rules,
    );
    let mut summary = Summary::default();
    for f in &findings {
        match f.severity {
            super::report::Severity::Error => summary.error += 1,
            super::report::Severity::Warning => summary.warning += 1,
            super::report::Severity::Note => summary.note += 1,
        }
    }
    let files = match &resolved.changed {
        Some(c) => c.iter().cloned().collect(),
        None => scan.files.iter().map(|f| f.path.clone()).collect(),
    };
    Ok(Report {
        schema: REPORT_SCHEMA.into(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        created: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        commit: repo
            .head()
            .ok()
            .and_then(|h| h.target())
            .map(|o| o.to_string()),
        scope: ScopeInfo {
            kind: request.name().into(),
            base: resolved.base,
            files,
        },
        files_scanned: scan.files.len() as u32,
        rules,
        findings,
        summary,
    })
}

/// The newest tag whose commit is HEAD or an ancestor of it: the last release.
pub fn last_release_tag(repo: &git2::Repository) -> Option<(String, git2::Oid)> {
    let head = repo.head().ok()?.peel_to_commit().ok()?.id();
    let names = repo.tag_names(None).ok()?;
    let mut best: Option<(i64, String, git2::Oid)> = None;
    for name in names.iter().flatten() {
        let Ok(commit) = repo
            .revparse_single(&format!("refs/tags/{name}"))
            .and_then(|o| o.peel_to_commit())
        else {
            continue;
        };
        let reachable =
            commit.id() == head || repo.graph_descendant_of(head, commit.id()).unwrap_or(false);
        let time = commit.time().seconds();
        if reachable
            && best
                .as_ref()
                .is_none_or(|(t, n, _)| (time, name) > (*t, n.as_str()))
        {
            best = Some((time, name.to_string(), commit.id()));
        }
    }
    best.map(|(_, n, id)| (n, id))
}

/// Public symbols, at the last release tag, of the files in scope.
fn api_baseline(
    graph: &KnowledgeGraph,
    repo: &git2::Repository,
    changed: Option<&std::collections::BTreeSet<String>>,
    scan: &crate::scan::Scan,
) -> Result<Option<ApiBaseline>, AssessError> {
    let Some((tag, commit)) = last_release_tag(repo) else {
        return Ok(None);
    };
    let tree = repo
        .find_commit(commit)
        .and_then(|c| c.tree())
        .map_err(|e| ScopeError::Git(e.message().to_string()))?;
    let mut baseline = ApiBaseline {
        tag,
        files: Default::default(),
        config: Default::default(),
    };
    for file in &scan.files {
        if changed.is_some_and(|c| !c.contains(&file.path)) {
            continue;
        }
        let Ok(entry) = tree.get_path(Path::new(&file.path)) else {
            continue;
        };
        let Ok(blob) = repo.find_blob(entry.id()) else {
            continue;
        };
        let Ok(text) = std::str::from_utf8(blob.content()) else {
            continue;
        };
        let facts = graph.facts_of(file.language, text)?;
        baseline.files.insert(
            file.path.clone(),
            facts.symbols.into_iter().filter(|s| s.public).collect(),
        );
    }
    Ok(Some(baseline))
}

/// The working tree's public configuration files (none scanned when none is declared).
fn public_config_files(graph: &KnowledgeGraph) -> Result<Vec<ConfigFile>, AssessError> {
    let public = PublicConfig::new(&graph.config().public_config)?;
    if public.is_empty() {
        return Ok(Vec::new());
    }
    let scan = graph.scan_config(&|_, _| {})?;
    Ok(scan
        .files
        .into_iter()
        .filter(|f| public.is_public(&f.path))
        .collect())
}

/// Keys, at the last release tag, of the public configuration files in scope.
fn config_baseline(
    graph: &KnowledgeGraph,
    repo: &git2::Repository,
    changed: Option<&std::collections::BTreeSet<String>>,
    files: &[ConfigFile],
    baseline: &mut ApiBaseline,
) -> Result<(), AssessError> {
    let Some((_, commit)) = last_release_tag(repo) else {
        return Ok(());
    };
    let tree = repo
        .find_commit(commit)
        .and_then(|c| c.tree())
        .map_err(|e| ScopeError::Git(e.message().to_string()))?;
    for file in files {
        if changed.is_some_and(|c| !c.contains(&file.path)) {
            continue;
        }
        let Some(text) = tree
            .get_path(Path::new(&file.path))
            .ok()
            .and_then(|entry| repo.find_blob(entry.id()).ok())
            .and_then(|blob| String::from_utf8(blob.content().to_vec()).ok())
        else {
            continue;
        };
        let facts = graph.config_of(file.format, &text)?;
        baseline.config.insert(file.path.clone(), facts);
    }
    Ok(())
}

/// The latest report's path in the reports directory `artifacts`.
pub fn latest_path(artifacts: &Path) -> PathBuf {
    artifacts.join("assessment-latest.json")
}

/// A written report.
#[derive(Debug, Clone)]
pub struct WrittenReport {
    /// The history copy (immutable; the chain names it).
    pub path: PathBuf,
    /// Its SHAKE-256.
    pub hash: Hash,
    /// Size in bytes.
    pub size: u64,
}

/// REPORT: writes the report into the reports directory `artifacts` as
/// `assessment-latest.json` and as an immutable copy in `history/`, named by sequence
/// number, time and hash.
pub fn write_report(artifacts: &Path, report: &Report) -> Result<WrittenReport, AssessError> {
    let dir = artifacts.join("history");
    let err = |path: &Path, e: std::io::Error| AssessError::Report {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    weft_kernel::atomic::create_dir_durably(&dir).map_err(|e| err(&dir, e))?;
    let mut bytes = serde_json::to_vec_pretty(report).map_err(|e| AssessError::Report {
        path: dir.clone(),
        message: e.to_string(),
    })?;
    bytes.push(b'\n');
    let hash = weft_kernel::hash::shake256(&bytes);
    let stamp = report.created.replace([':', '-'], "");
    // A sequence number first: two runs within one second still sort in run order.
    let number = history_reports(artifacts).len() + 1;
    let path = dir.join(format!(
        "assessment-{number:06}-{stamp}-{}.json",
        &hash.to_hex()[..12]
    ));
    weft_kernel::atomic::write_atomically(&path, &bytes).map_err(|e| err(&path, e))?;
    let latest = latest_path(artifacts);
    weft_kernel::atomic::write_atomically(&latest, &bytes).map_err(|e| err(&latest, e))?;
    Ok(WrittenReport {
        path,
        hash,
        size: bytes.len() as u64,
    })
}

/// Reads a report file.
pub fn read_report(path: &Path) -> Result<Report, AssessError> {
    let text = std::fs::read_to_string(path).map_err(|e| AssessError::Report {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let report: Report = serde_json::from_str(&text).map_err(|e| AssessError::Report {
        path: path.to_path_buf(),
        message: format!("not a weft assessment report: {e}"),
    })?;
    if report.schema != REPORT_SCHEMA {
        return Err(AssessError::Report {
            path: path.to_path_buf(),
            message: format!(
                "report schema {:?}, this weft reads {REPORT_SCHEMA:?}",
                report.schema
            ),
        });
    }
    Ok(report)
}

/// The reports kept in history in the reports directory `artifacts`, oldest first.
pub fn history_reports(artifacts: &Path) -> Vec<PathBuf> {
    let dir = artifacts.join("history");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    out.sort();
    out
}
