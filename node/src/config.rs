//! `weave.toml`: the one configuration file, at the repository root.
//!
//! Every section is optional and has defaults. Unknown keys are errors that name the key
//! and its line (serde's `deny_unknown_fields` and toml's spans), because a misspelt
//! governance threshold silently ignored is worse than a refusal.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use weft_graph::assess::layers::LayerPattern;
use weft_graph::assess::report::FailOn;
use weft_graph::assess::rules::{self, RuleConfig, RuleLevel};
use weft_graph::config_schema::PublicConfig;
use weft_graph::history::MiningConfig;
use weft_graph::scan::ScanOptions;
use weft_graph::{GraphConfig, ModelConfig};
use weft_kernel::gate::{self, RuleSet, RuleSpec};

/// File name of the configuration.
pub const CONFIG_FILE: &str = "weave.toml";

/// Configuration errors.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Unreadable file.
    #[error("{path}: {source}")]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// TOML syntax, unknown key or wrong type; toml's message names line and column.
    #[error("{path}: {message}")]
    Parse {
        /// File.
        path: PathBuf,
        /// The parser's message (with line, column and the offending key).
        message: String,
    },
    /// A value that parses but makes no sense.
    #[error("{path}: {message}")]
    Invalid {
        /// File.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// The whole file.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct WeaveConfig {
    /// `[project]`.
    pub project: ProjectConfig,
    /// `[analysis]`.
    pub analysis: AnalysisConfig,
    /// `[embeddings]`.
    pub embeddings: EmbeddingsConfig,
    /// `[assessment]`.
    pub assessment: AssessmentConfig,
    /// `[governance]`.
    pub governance: GovernanceConfig,
    /// `[network]`.
    pub network: NetworkConfig,
    /// `[coordination]`.
    pub coordination: CoordinationConfig,
    /// `[architecture]`.
    pub architecture: ArchitectureConfig,
}

/// `[architecture]`: the structure the `layer-violation` rule checks imports against.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ArchitectureConfig {
    /// The layers, highest first: each a directory prefix or a glob (see
    /// [`LayerPattern`]); a file may import its own layer and those below it.
    pub layers: Vec<LayerPattern>,
}

/// `[project]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ProjectConfig {
    /// Project name.
    pub name: String,
    /// Languages, most used first.
    pub languages: Vec<String>,
    /// Directories holding source code.
    pub source_dirs: Vec<String>,
    /// Default branch.
    pub default_branch: String,
}

/// `[analysis]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AnalysisConfig {
    /// Languages to analyse (empty: the project's).
    pub languages: Vec<String>,
    /// Extra ignore globs.
    pub ignore: Vec<String>,
    /// Most commits mined.
    pub max_commits: u32,
    /// Changesets touching more files are ignored for co-change.
    pub max_changeset_size: u32,
    /// Co-change: a file needs this many revisions to be coupled (code-maat's default 5).
    pub min_revs: u32,
    /// Co-change: a pair needs this many shared revisions (code-maat's default 5).
    pub min_shared_revs: u32,
    /// Co-change: minimum coupling degree in percent (code-maat's default 30).
    pub min_coupling: f64,
    /// Globs of the configuration files users set (TOML, YAML, JSON): the API diff
    /// reports their keys removed or retyped (breaking) and added (additive).
    pub public_config: Vec<String>,
}

impl AnalysisConfig {
    /// Which files are analysed.
    pub fn scan_options(&self) -> ScanOptions {
        ScanOptions {
            languages: self.languages.clone(),
            ignore: self.ignore.clone(),
        }
    }

    /// How history is mined.
    pub fn mining_config(&self) -> MiningConfig {
        MiningConfig {
            max_commits: self.max_commits as usize,
            max_changeset_size: self.max_changeset_size as usize,
            min_revs: self.min_revs,
            min_shared_revs: self.min_shared_revs,
            min_coupling: self.min_coupling,
            ..MiningConfig::default()
        }
    }
}

impl Default for AnalysisConfig {
    fn default() -> Self {
        AnalysisConfig {
            languages: vec![],
            ignore: vec![],
            max_commits: 5000,
            max_changeset_size: 30,
            min_revs: 5,
            min_shared_revs: 5,
            min_coupling: 30.0,
            public_config: vec![],
        }
    }
}

/// `[embeddings]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct EmbeddingsConfig {
    /// Withdrawn: a repository's file may not choose the model directory.
    #[serde(skip_serializing)]
    pub model_dir: Withdrawn,
    /// Withdrawn: a repository's file may not choose the native library loaded.
    #[serde(skip_serializing)]
    pub runtime: Withdrawn,
    /// Texts per inference batch.
    pub batch_size: u32,
}

impl EmbeddingsConfig {
    /// How the model is run. Which model files are loaded is not configured here.
    pub fn model_config(&self) -> ModelConfig {
        ModelConfig {
            batch_size: self.batch_size as usize,
        }
    }
}

impl Default for EmbeddingsConfig {
    fn default() -> Self {
        EmbeddingsConfig {
            model_dir: Withdrawn,
            runtime: Withdrawn,
            batch_size: 32,
        }
    }
}

/// A key `weave.toml` no longer accepts because the file comes from whoever wrote the
/// repository: any value is refused, with a message saying where the setting lives now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Withdrawn;

impl<'de> Deserialize<'de> for Withdrawn {
    fn deserialize<D: serde::Deserializer<'de>>(_: D) -> Result<Withdrawn, D::Error> {
        Err(serde::de::Error::custom(
            "weave.toml cannot choose the embedding model or the ONNX Runtime library (a \
             repository's file must not pick the native code weft loads): remove this key, and \
             set WEFT_MODEL_DIR (and WEFT_ORT_LIB with WEFT_ORT_SHA256) in your own environment, \
             or install the pinned files with `bash scripts/models.sh`",
        ))
    }
}

/// A cron expression in UTC (`0 2 * * *`; a sixth, leading field gives seconds), checked
/// when the file loads; empty: no schedule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Schedule(String);

impl Schedule {
    /// Parses a schedule; the error says what a valid one looks like.
    pub fn parse(expression: &str) -> Result<Schedule, String> {
        if !expression.is_empty() {
            cron(expression)?;
        }
        Ok(Schedule(expression.to_string()))
    }

    /// Whether there is no schedule.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The expression as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The parsed expression (None: no schedule).
    pub fn cron(&self) -> Option<croner::Cron> {
        cron(&self.0).ok()
    }
}

fn cron(expression: &str) -> Result<croner::Cron, String> {
    croner::Cron::new(expression)
        .with_seconds_optional()
        .parse()
        .map_err(|e| {
            format!(
                "[assessment] schedule = {expression:?}: not a cron expression ({e}); e.g. \"0 2 * * *\" (daily at 02:00 UTC)"
            )
        })
}

impl std::fmt::Display for Schedule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Serde through text for a type checked by its `parse` and written by `Display`: the
/// check runs while the file loads, so a bad value is reported with its line.
macro_rules! through_text {
    ($ty:ty) => {
        impl TryFrom<String> for $ty {
            type Error = String;
            fn try_from(text: String) -> Result<$ty, String> {
                <$ty>::parse(&text)
            }
        }

        impl From<$ty> for String {
            fn from(value: $ty) -> String {
                value.to_string()
            }
        }
    };
}

through_text!(Schedule);
through_text!(Address);
through_text!(ConfiguredPeerId);

/// `[assessment]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AssessmentConfig {
    /// From which severity a run fails.
    pub fail_on: FailOn,
    /// When the daemon runs a full assessment (empty: never).
    pub schedule: Schedule,
    /// Per-rule level overriding the default severity.
    pub rules: BTreeMap<String, RuleLevel>,
    /// A function longer than this many lines of code is reported.
    pub max_function_loc: u32,
    /// A function with a cyclomatic complexity above this is reported.
    pub max_complexity: u32,
    /// Hotspots: at most this many files, the highest churn × complexity.
    pub hotspot_count: u32,
    /// Hotspots: a file needs at least this many commits.
    pub hotspot_min_commits: u32,
    /// Ownership risk: a file with at least this many commits...
    pub ownership_min_commits: u32,
    /// ...of which one author made at least this share (0–1).
    pub ownership_share: f64,
    /// Implicit dependencies: the co-change confidence a pair needs (0–1).
    pub implicit_min_confidence: f64,
    /// God files: at most this many files, the highest size × fan-in × churn.
    pub god_file_count: u32,
    /// God files: a file needs at least this many lines of code...
    pub god_file_min_loc: u32,
    /// ...this many files importing it...
    pub god_file_min_fan_in: u32,
    /// ...and this many commits.
    pub god_file_min_commits: u32,
    /// Documentation gaps: at most this many symbols, the most used first.
    pub doc_gap_count: u32,
}

impl Default for AssessmentConfig {
    fn default() -> Self {
        let r = RuleConfig::default();
        AssessmentConfig {
            fail_on: FailOn::Error,
            schedule: Schedule::default(),
            rules: r.levels,
            max_function_loc: r.max_function_loc,
            max_complexity: r.max_complexity,
            hotspot_count: r.hotspot_count,
            hotspot_min_commits: r.hotspot_min_commits,
            ownership_min_commits: r.ownership_min_commits,
            ownership_share: r.ownership_share,
            implicit_min_confidence: r.implicit_min_confidence,
            god_file_count: r.god_file_count,
            god_file_min_loc: r.god_file_min_loc,
            god_file_min_fan_in: r.god_file_min_fan_in,
            god_file_min_commits: r.god_file_min_commits,
            doc_gap_count: r.doc_gap_count,
        }
    }
}

impl AssessmentConfig {
    /// What the assessment rules take of this section, with the layer order of
    /// `[architecture]`.
    pub fn rule_config(&self, architecture: &ArchitectureConfig) -> RuleConfig {
        RuleConfig {
            levels: self.rules.clone(),
            max_function_loc: self.max_function_loc,
            max_complexity: self.max_complexity,
            hotspot_count: self.hotspot_count,
            hotspot_min_commits: self.hotspot_min_commits,
            ownership_min_commits: self.ownership_min_commits,
            ownership_share: self.ownership_share,
            implicit_min_confidence: self.implicit_min_confidence,
            god_file_count: self.god_file_count,
            god_file_min_loc: self.god_file_min_loc,
            god_file_min_fan_in: self.god_file_min_fan_in,
            god_file_min_commits: self.god_file_min_commits,
            doc_gap_count: self.doc_gap_count,
            layers: architecture.layers.clone(),
        }
    }
}

impl ArchitectureConfig {
    /// Each layer named once (the entries themselves are checked as they load).
    fn check(&self) -> Result<(), String> {
        let mut seen = std::collections::BTreeSet::new();
        for layer in &self.layers {
            if !seen.insert(layer.as_str()) {
                return Err(format!(
                    "[architecture] layers: `{}` is listed twice; each layer once, highest first",
                    layer.as_str()
                ));
            }
        }
        Ok(())
    }
}

/// `[governance]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct GovernanceConfig {
    /// Magnitude threshold.
    pub threshold: f64,
    /// Effect dimensions.
    pub dimensions: Vec<String>,
    /// Per-environment settings.
    pub environments: BTreeMap<String, EnvironmentConfig>,
    /// Rules (defaults when absent).
    pub rules: Option<Vec<RuleSpec>>,
}

impl Default for GovernanceConfig {
    fn default() -> Self {
        GovernanceConfig {
            threshold: gate::DEFAULT_THRESHOLD,
            dimensions: gate::DEFAULT_DIMENSIONS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            environments: BTreeMap::new(),
            rules: None,
        }
    }
}

/// `[governance.environments.NAME]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentConfig {
    /// Threshold in this environment.
    pub threshold: f64,
}

/// `[network] calibration_ms` by default: a few seconds of measuring at start.
pub const DEFAULT_CALIBRATION_MS: u64 = 3_000;
/// The longest start-up calibration `[network] calibration_ms` may ask for.
pub const MAX_CALIBRATION_MS: u64 = 30_000;

/// `[network]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct NetworkConfig {
    /// Listen multiaddrs (default: a free port on loopback only).
    pub listen: Vec<Address>,
    /// mDNS discovery on the local network.
    pub mdns: bool,
    /// Kademlia peer discovery (for organisations with more nodes than anyone lists).
    pub kademlia: bool,
    /// Organisation name (scopes gossip topics).
    pub organisation: String,
    /// Whose heads, adverts and evidence are accepted.
    pub trust: TrustMode,
    /// Seconds between re-announcements of an unchanged head and advert.
    pub announce_interval: u64,
    /// Seconds between witness events for one peer's head (0: never witness).
    pub witness_interval: u64,
    /// Milliseconds the daemon's start-up calibration may take (0: no calibration).
    pub calibration_ms: u64,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        NetworkConfig {
            listen: vec![Address::parse("/ip4/127.0.0.1/tcp/0").expect("a multiaddr")],
            mdns: false,
            kademlia: false,
            organisation: "weft".into(),
            trust: TrustMode::Listed,
            announce_interval: 30,
            witness_interval: 300,
            calibration_ms: DEFAULT_CALIBRATION_MS,
        }
    }
}

/// `[network] trust`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrustMode {
    /// Only from configured peers' keys.
    Listed,
    /// From any key that signs validly.
    Open,
}

/// A multiaddr, checked when the file loads (`/ip4/10.0.0.5/tcp/4001`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Address(weft_net::Multiaddr);

impl Address {
    /// Parses an address; the error says what one looks like.
    pub fn parse(text: &str) -> Result<Address, String> {
        text.parse()
            .map(Address)
            .map_err(|e| format!("`{text}` is not a multiaddr ({e}); e.g. /ip4/10.0.0.5/tcp/4001"))
    }

    /// The address.
    pub fn multiaddr(&self) -> &weft_net::Multiaddr {
        &self.0
    }
}

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A libp2p peer id (base58 of an Ed25519 key), checked when the file loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ConfiguredPeerId(weft_net::PeerId);

impl ConfiguredPeerId {
    /// Parses a peer id; the error says why it is not one.
    pub fn parse(text: &str) -> Result<ConfiguredPeerId, String> {
        weft_net::identity::parse_peer_id(text)
            .map(ConfiguredPeerId)
            .map_err(|e| format!("peer_id `{text}`: {e}"))
    }

    /// The peer id.
    pub fn peer_id(&self) -> weft_net::PeerId {
        self.0
    }

    /// The Ed25519 public key it names.
    pub fn public_key(&self) -> Option<[u8; 32]> {
        weft_net::identity::public_key(&self.0)
    }
}

impl std::fmt::Display for ConfiguredPeerId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.to_base58())
    }
}

/// `[coordination]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CoordinationConfig {
    /// Linked peers.
    pub peers: Vec<PeerConfig>,
    /// The command that checks this repository against an upstream's head when the
    /// upstream runs `weft coordinate impact --check` (run with `sh -c` in a temporary
    /// copy; see docs/coordination.md). Default: the language's own check.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check: Option<String>,
    /// Seconds a build check of this repository may take (default 600).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check_timeout: Option<u64>,
}

/// One `[[coordination.peers]]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PeerConfig {
    /// Name.
    pub name: String,
    /// Local path to the peer repository or its `.weftos/`.
    #[serde(default)]
    pub path: Option<String>,
    /// Where to dial it.
    #[serde(default)]
    pub addr: Option<Address>,
    /// Further addresses that serve its chain: the other members, when a cluster
    /// replicates it (docs/cluster.md). Dialled while none is connected.
    #[serde(default)]
    pub addrs: Vec<Address>,
    /// Its expected peer id (its key).
    #[serde(default)]
    pub peer_id: Option<ConfiguredPeerId>,
}

/// Most further addresses one peer entry may list (its cluster's other members: far
/// above any sensible Raft cluster, and a bound on what one entry makes the node dial).
pub const MAX_PEER_ADDRS: usize = 16;

/// Whether `name` can name a peer or an organisation: it becomes a directory name and a
/// tree path segment.
pub fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        && !name.starts_with('.')
}

impl PeerConfig {
    /// Checks one peer entry; the message names the peer and the field.
    pub fn check(&self) -> Result<(), String> {
        let name = &self.name;
        if !valid_name(name) {
            return Err(format!(
                "[coordination] peer name `{name}`: use 1–64 letters, digits, `.`, `_` or `-`, not starting with `.`"
            ));
        }
        if self.addrs.len() > MAX_PEER_ADDRS {
            return Err(format!(
                "[coordination] peer `{name}`: addrs lists {} addresses, at most {MAX_PEER_ADDRS} are dialled (a cluster's members)",
                self.addrs.len()
            ));
        }
        if self.path.is_none() && self.addr.is_none() && self.peer_id.is_none() {
            return Err(format!(
                "[coordination] peer `{name}`: give a path, an addr or a peer_id"
            ));
        }
        Ok(())
    }
}

impl WeaveConfig {
    /// Parses and validates text; `path` is only used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<WeaveConfig, ConfigError> {
        let config: WeaveConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().to_string(),
        })?;
        config.rule_set().map_err(|e| ConfigError::Invalid {
            path: path.to_path_buf(),
            message: format!("[governance] {e}"),
        })?;
        for rule in config.assessment.rules.keys() {
            if !rules::rule_ids().any(|id| id == rule) {
                return Err(ConfigError::Invalid {
                    path: path.to_path_buf(),
                    message: format!(
                        "[assessment.rules] unknown rule `{rule}`; rules: {}",
                        rules::rule_ids().collect::<Vec<_>>().join(", ")
                    ),
                });
            }
        }
        let a = &config.analysis;
        PublicConfig::new(&a.public_config).map_err(|e| ConfigError::Invalid {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        if !(0.0..=100.0).contains(&a.min_coupling)
            || !(0.0..=1.0).contains(&config.assessment.ownership_share)
        {
            return Err(ConfigError::Invalid {
                path: path.to_path_buf(),
                message:
                    "[analysis] min_coupling must be 0–100 and [assessment] ownership_share 0–1"
                        .into(),
            });
        }
        if !(0.0..=1.0).contains(&config.assessment.implicit_min_confidence) {
            return Err(ConfigError::Invalid {
                path: path.to_path_buf(),
                message: format!(
                    "[assessment] implicit_min_confidence = {}: give a share between 0 and 1",
                    config.assessment.implicit_min_confidence
                ),
            });
        }
        config
            .architecture
            .check()
            .map_err(|message| ConfigError::Invalid {
                path: path.to_path_buf(),
                message,
            })?;
        config
            .check_network()
            .map_err(|message| ConfigError::Invalid {
                path: path.to_path_buf(),
                message,
            })?;
        Ok(config)
    }

    fn check_network(&self) -> Result<(), String> {
        let net = &self.network;
        if !valid_name(&net.organisation) {
            return Err(format!(
                "[network] organisation = \"{}\": use 1–64 letters, digits, `.`, `_` or `-`",
                net.organisation
            ));
        }
        if net.announce_interval == 0 {
            return Err("[network] announce_interval must be at least 1 second".into());
        }
        if net.calibration_ms > MAX_CALIBRATION_MS {
            return Err(format!(
                "[network] calibration_ms = {}: at most {MAX_CALIBRATION_MS} (0 turns calibration off)",
                net.calibration_ms
            ));
        }
        if self.coordination.check_timeout == Some(0) {
            return Err("[coordination] check_timeout must be at least 1 second".into());
        }
        if self
            .coordination
            .check
            .as_deref()
            .is_some_and(|c| c.trim().is_empty())
        {
            return Err("[coordination] check must be a command (or be left out)".into());
        }
        let mut names = std::collections::BTreeSet::new();
        for peer in &self.coordination.peers {
            peer.check()?;
            if !names.insert(&peer.name) {
                return Err(format!(
                    "[coordination] peer `{}` is listed twice",
                    peer.name
                ));
            }
        }
        Ok(())
    }

    /// Loads `root/weave.toml`; a missing file gives the defaults.
    pub fn load(root: &Path) -> Result<WeaveConfig, ConfigError> {
        let path = root.join(CONFIG_FILE);
        WeaveConfig::from_text(read_text(&path)?.as_deref(), &path)
    }

    /// The configuration a file's text (as [`read_text`] gives it) describes: None, a
    /// missing file, gives the defaults.
    pub fn from_text(text: Option<&str>, path: &Path) -> Result<WeaveConfig, ConfigError> {
        match text {
            Some(text) => WeaveConfig::parse(text, path),
            None => Ok(WeaveConfig::default()),
        }
    }

    /// What the knowledge graph of the repository at `root` is opened with.
    pub fn graph_config(&self) -> GraphConfig {
        GraphConfig {
            scan: self.analysis.scan_options(),
            mining: self.analysis.mining_config(),
            model: self.embeddings.model_config(),
            rules: self.assessment.rule_config(&self.architecture),
            public_config: self.analysis.public_config.clone(),
        }
    }

    /// The governance rule set this configuration describes.
    pub fn rule_set(&self) -> Result<RuleSet, gate::GateError> {
        let g = &self.governance;
        RuleSet::new(
            g.dimensions.clone(),
            g.threshold,
            g.environments
                .iter()
                .map(|(k, v)| (k.clone(), v.threshold))
                .collect(),
            g.rules.clone().unwrap_or_else(gate::default_rules),
        )
    }
}

/// The text of the configuration file at `path`; None when there is none.
pub fn read_text(path: &Path) -> Result<Option<String>, ConfigError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(ConfigError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// The `weave.toml` that `weft init` writes.
pub fn render_initial(project: &ProjectConfig) -> String {
    let list = |items: &[String]| {
        items
            .iter()
            .map(|s| format!("{s:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        r#"# weft configuration (reference: docs/config.md in weft). Unknown keys are errors.

[project]
name = {name:?}
languages = [{languages}]
source_dirs = [{dirs}]
default_branch = {branch:?}

[governance]
# Effect magnitude (Euclidean norm of the effect vector) above which actions are denied.
threshold = 0.8
dimensions = ["risk", "security", "privacy", "novelty", "fairness"]

# Stricter thresholds per environment (`weft gate check --env production`):
# [governance.environments.production]
# threshold = 0.6

# Rules: severity informational → permit, warning → warn, blocking → defer to a
# human (`weft gate approve|reject`), critical → deny. The strictest match wins.
[[governance.rules]]
id = "over-threshold"
action = "*"
when = ["magnitude > threshold"]
severity = "critical"
message = "effect magnitude is above the threshold"

[[governance.rules]]
id = "over-half-threshold"
action = "*"
when = ["magnitude > threshold * 0.5"]
severity = "warning"
message = "effect magnitude is above half the threshold"

# A rule that holds risky releases for a human in production:
# [[governance.rules]]
# id = "risky-release-in-production"
# action = "release.*"
# environments = ["production"]
# when = ["risk > 0.3"]
# severity = "blocking"
"#,
        name = project.name,
        languages = list(&project.languages),
        dirs = list(&project.source_dirs),
        branch = project.default_branch,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_named_with_their_line() {
        let text = "[project]\nname = \"x\"\n\n[governance]\nthreshhold = 0.5\n";
        let err = WeaveConfig::parse(text, Path::new("weave.toml")).expect_err("unknown key");
        let msg = err.to_string();
        assert!(msg.contains("threshhold"), "{msg}");
        assert!(msg.contains("line 5"), "{msg}");
    }

    #[test]
    fn initial_file_parses_to_the_default_rules() {
        let project = ProjectConfig {
            name: "demo".into(),
            languages: vec!["rust".into()],
            source_dirs: vec!["src".into()],
            default_branch: "main".into(),
        };
        let config =
            WeaveConfig::parse(&render_initial(&project), Path::new("weave.toml")).expect("valid");
        assert_eq!(config.project, project);
        assert_eq!(
            config.rule_set().expect("rules").hash(),
            RuleSet::default_set().hash()
        );
    }

    #[test]
    fn bad_rules_and_values_are_refused() {
        for text in [
            "[[governance.rules]]\nid = \"a\"\nwhen = [\"blast > 1\"]\nseverity = \"warning\"\n",
            "[[governance.rules]]\nid = \"a\"\nseverity = \"fatal\"\n",
            "[governance]\nthreshold = -1.0\n",
            "[assessment]\nfail_on = \"sometimes\"\n",
            "[assessment.rules]\nhotspot = \"loud\"\n",
            "[assessment.rules]\nno-such-rule = \"off\"\n",
            "[analysis]\nmin_coupling = 130.0\n",
            "[assessment]\nimplicit_min_confidence = 1.5\n",
        ] {
            assert!(
                WeaveConfig::parse(text, Path::new("weave.toml")).is_err(),
                "{text}"
            );
        }
    }

    #[test]
    fn calibration_is_on_by_default_can_be_turned_off_and_is_bounded() {
        let parse = |text: &str| WeaveConfig::parse(text, Path::new("weave.toml"));
        let default = parse("").expect("valid");
        assert_eq!(default.network.calibration_ms, DEFAULT_CALIBRATION_MS);
        let off = parse("[network]\ncalibration_ms = 0\n").expect("valid");
        assert_eq!(off.network.calibration_ms, 0);
        let err = parse("[network]\ncalibration_ms = 30001\n").expect_err("too long");
        assert!(err.to_string().contains("calibration_ms"), "{err}");
    }

    #[test]
    fn architecture_layers_load_in_order_and_bad_ones_name_the_entry() {
        let text = "[architecture]\nlayers = [\"cli\", \"node/src\", \"kernel/**/*.rs\"]\n";
        let config = WeaveConfig::parse(text, Path::new("weave.toml")).expect("valid");
        let rules = config.graph_config().rules;
        let names: Vec<&str> = rules.layers.iter().map(|l| l.as_str()).collect();
        assert_eq!(names, ["cli", "node/src", "kernel/**/*.rs"]);
        assert!(WeaveConfig::default()
            .graph_config()
            .rules
            .layers
            .is_empty());
        for (text, says) in [
            (
                "[architecture]\nlayers = [\"cli\", \"src/[x\"]\n",
                "bad glob",
            ),
            (
                "[architecture]\nlayers = [\"cli\", \"../up\"]\n",
                "repository-relative",
            ),
            (
                "[architecture]\nlayers = [\"cli\", \"cli/\"]\n",
                "listed twice",
            ),
            ("[architecture]\nlayer = [\"cli\"]\n", "layer"),
        ] {
            let err = WeaveConfig::parse(text, Path::new("weave.toml")).expect_err(text);
            let msg = err.to_string();
            assert!(msg.contains(says), "{text}: {msg}");
            if says != "listed twice" {
                assert!(msg.contains("line 2"), "{text}: {msg}");
            }
        }
    }

    #[test]
    fn public_config_globs_reach_the_graph_and_bad_ones_are_named() {
        let text = "[analysis]\npublic_config = [\"config/*.toml\", \"deploy/**\"]\n";
        let config = WeaveConfig::parse(text, Path::new("weave.toml")).expect("valid");
        assert_eq!(
            config.graph_config().public_config,
            ["config/*.toml", "deploy/**"]
        );
        for (text, needle) in [
            (
                "[analysis]\npublic_config = [\"config/[x.toml\"]\n",
                "is not a glob",
            ),
            (
                "[analysis]\npublic_config = [\"src/*.rs\"]\n",
                "matches no configuration file",
            ),
            (
                "[analysis]\npublic_config = \"config.toml\"\n",
                "public_config",
            ),
        ] {
            let err = WeaveConfig::parse(text, Path::new("weave.toml")).expect_err(text);
            let message = err.to_string();
            assert!(message.contains(needle), "{text}: {message}");
            assert!(message.contains("weave.toml"), "{message}");
        }
    }
}
