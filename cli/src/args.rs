//! Command-line syntax (clap). Checked values become library calls in `cmd`.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// weft: every repository a node of a coordination mesh.
///
/// Exit codes: 0 ok; 1 verification failed or gate denied; 2 bad usage or input
/// (nothing changed); 3 gate deferred; 4 operational failure (I/O, locked store).
#[derive(Parser, Debug)]
#[command(name = "weft", version, propagate_version = true)]
pub struct Cli {
    /// Run as if started in DIR (like `git -C`).
    #[arg(short = 'C', value_name = "DIR", global = true)]
    pub dir: Option<PathBuf>,
    /// Print machine-readable JSON.
    #[arg(long, global = true)]
    pub json: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level commands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Make this git repository a weft node (SOP 1).
    Init,
    /// Chain length, head, tree root, key fingerprint and configuration.
    Status,
    /// The ExoChain: append, read, verify, prove, export and import.
    #[command(subcommand)]
    Chain(ChainCommand),
    /// The resource tree.
    #[command(subcommand)]
    Tree(TreeCommand),
    /// The governance gate.
    #[command(subcommand)]
    Gate(GateCommand),
    /// Witness entries: bind this chain to an external fact.
    #[command(subcommand)]
    Witness(WitnessCommand),
    /// Lineage records: link a child object to its parents.
    #[command(subcommand)]
    Lineage(LineageCommand),
    /// Run the guided demo in a throw-away repository.
    Demo(DemoArgs),
    /// Symbols of the code (tree-sitter): kind, qualified name, lines, visibility, complexity.
    Symbols(SymbolsArgs),
    /// Imports of each file, and the package dependencies manifests declare.
    Deps,
    /// Git history: churn, authors and ownership per file, commit patterns.
    History(HistoryArgs),
    /// Files that usually change together with FILE (co-change coupling).
    Cochange(CochangeArgs),
    /// Semantic search over the code's symbols (MiniLM embeddings, HNSW index).
    Search(SearchArgs),
    /// Print the embedding vector of a text (for parity checks with other runtimes).
    Embed(EmbedArgs),
    /// Assess the code (SOP 2) and record the report on the chain; or compare reports.
    Assess(AssessArgs),
    /// Install or remove weft's post-commit and pre-push hooks.
    #[command(subcommand)]
    Hooks(HooksCommand),
    /// Watch the working tree and assess changed files as they settle.
    Watch(WatchArgs),
}

/// `weft symbols`.
#[derive(Args, Debug)]
pub struct SymbolsArgs {
    /// A file or directory (default: the whole repository).
    pub path: Option<PathBuf>,
}

/// `weft history`.
#[derive(Args, Debug)]
pub struct HistoryArgs {
    /// Mine at most this many new commits (default: [analysis] max_commits).
    #[arg(long, value_name = "N")]
    pub max_commits: Option<usize>,
    /// Show this many files (by commits).
    #[arg(long, default_value_t = 20)]
    pub top: usize,
}

/// `weft cochange`.
#[derive(Args, Debug)]
pub struct CochangeArgs {
    /// The file.
    pub file: PathBuf,
    /// Mine at most this many new commits first.
    #[arg(long, value_name = "N")]
    pub max_commits: Option<usize>,
}

/// `weft search`.
#[derive(Args, Debug)]
pub struct SearchArgs {
    /// What to look for, in words.
    pub query: String,
    /// Number of results.
    #[arg(short = 'k', default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub k: u16,
}

/// `weft embed`.
#[derive(Args, Debug)]
pub struct EmbedArgs {
    /// The text.
    pub text: String,
}

/// Scope of an assessment.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScopeArg {
    /// Files of the last commit (or the staged changes with --staged).
    Commit,
    /// The branch's changes since it left the default branch.
    Ci,
    /// Every file.
    Full,
}

/// Report format.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormatArg {
    /// Aligned text for people.
    Table,
    /// The report document (docs/assessment.md).
    Json,
    /// GitHub Actions workflow commands.
    GithubAnnotations,
    /// SARIF 2.1.0 (GitHub code scanning).
    Sarif,
}

/// Severity threshold for the exit code.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailOnArg {
    /// Always exit 0 when the assessment ran.
    None,
    /// Exit 1 on any warning or error.
    Warning,
    /// Exit 1 on any error.
    Error,
}

/// `weft assess`.
#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AssessArgs {
    /// Compare reports instead of assessing.
    #[command(subcommand)]
    pub command: Option<AssessCommand>,
    /// Which files.
    #[arg(long, value_enum, default_value = "commit")]
    pub scope: ScopeArg,
    /// With --scope commit: the staged changes instead of the last commit.
    #[arg(long)]
    pub staged: bool,
    /// Assess what changed since REF (overrides --scope).
    #[arg(long, value_name = "REF")]
    pub since: Option<String>,
    /// Output format (--json is the same as --format json).
    #[arg(long, value_enum, default_value = "table")]
    pub format: FormatArg,
    /// Exit 1 when a finding is at least this severe (default: [assessment] fail_on).
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOnArg>,
    /// Write the rendered report to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `weft assess diff`.
#[derive(Subcommand, Debug)]
pub enum AssessCommand {
    /// New, fixed and unchanged findings between two reports (default: the two newest
    /// in history; with one argument, that report against the latest).
    Diff {
        /// Older report.
        a: Option<PathBuf>,
        /// Newer report.
        b: Option<PathBuf>,
    },
}

/// `weft hooks`.
#[derive(Subcommand, Debug)]
pub enum HooksCommand {
    /// Add weft's block to post-commit and pre-push (keeps your own lines).
    Install,
    /// Remove weft's block (and nothing else).
    Uninstall,
}

/// `weft watch`.
#[derive(Args, Debug)]
pub struct WatchArgs {
    /// Quiet time before a batch of changes is assessed, in milliseconds.
    #[arg(long, default_value_t = 500)]
    pub debounce_ms: u64,
    /// Stop after this many assessments (default: run until interrupted).
    #[arg(long, value_name = "N")]
    pub max_runs: Option<u64>,
}

/// `weft chain ...`.
#[derive(Subcommand, Debug)]
pub enum ChainCommand {
    /// Append an event; prints it once it is durable.
    Append(AppendArgs),
    /// Print events (streamed; every event unless --limit).
    Log {
        /// First sequence.
        #[arg(long, default_value_t = 0)]
        from: u64,
        /// At most this many events.
        #[arg(long)]
        limit: Option<u64>,
    },
    /// The head and its latest signed head.
    Head,
    /// Verify every hash, link, sequence, signature, witness and lineage record.
    Verify,
    /// Inclusion proof of one event against the latest signed head.
    Proof {
        /// Sequence of the event.
        seq: u64,
        /// Write the proof to FILE instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Check an inclusion proof offline.
    VerifyProof {
        /// The proof file (`-` for standard input).
        file: PathBuf,
        /// Require the head to be signed by this public key (64 hex characters).
        #[arg(long)]
        signer: Option<String>,
    },
    /// Write the chain to a portable segment file.
    Export {
        /// Output file (refused if it exists).
        file: PathBuf,
    },
    /// Verify a segment file without importing it.
    VerifyFile {
        /// The file.
        file: PathBuf,
    },
    /// Restore the chain from a segment file into an empty store.
    Import {
        /// The file.
        file: PathBuf,
    },
    /// Keep the longest valid prefix, quarantine the rest, record a `chain.repair` event.
    Repair,
}

/// Payload of an appended event.
#[derive(Args, Debug)]
#[group(required = true, multiple = false)]
pub struct PayloadSource {
    /// Payload as JSON text.
    #[arg(long, value_name = "JSON")]
    pub payload_json: Option<String>,
    /// Payload as a JSON file.
    #[arg(long, value_name = "FILE")]
    pub payload_file: Option<PathBuf>,
    /// One payload per line of standard input (JSON), each acknowledged on a line of
    /// output once durable.
    #[arg(long)]
    pub stdin_lines: bool,
}

/// `weft chain append`.
#[derive(Args, Debug)]
pub struct AppendArgs {
    /// Subsystem writing the event (lower-case word).
    #[arg(long)]
    pub source: String,
    /// `{source}.{verb}`.
    #[arg(long)]
    pub kind: String,
    /// The payload.
    #[command(flatten)]
    pub payload: PayloadSource,
}

/// `weft tree ...`.
#[derive(Subcommand, Debug)]
pub enum TreeCommand {
    /// List a node's children (or the whole subtree with -r).
    Ls {
        /// Path (default `/`).
        #[arg(default_value = "/")]
        path: String,
        /// Every descendant.
        #[arg(short, long)]
        recursive: bool,
    },
    /// Show one node.
    Get {
        /// Path.
        path: String,
    },
    /// Create or update a node.
    Set {
        /// Path.
        path: String,
        /// Kind (namespace, service, agent, peer, environment, release, ...).
        #[arg(long)]
        kind: String,
        /// Metadata entry (repeatable).
        #[arg(long = "meta", value_name = "KEY=VALUE")]
        meta: Vec<String>,
    },
    /// Remove a node.
    Rm {
        /// Path.
        path: String,
        /// Remove everything below it too.
        #[arg(short, long)]
        recursive: bool,
    },
    /// The root hash.
    Root,
    /// Replay the chain and compare with the stored tree.
    Verify,
}

/// `weft gate ...`.
#[derive(Subcommand, Debug)]
pub enum GateCommand {
    /// Score an action (exit 0 permit/warn, 1 deny, 3 defer).
    Check {
        /// Action name, e.g. release.publish.
        #[arg(long)]
        action: String,
        /// Effect vector, e.g. risk=0.9,security=0.2.
        #[arg(long)]
        effect: String,
        /// Environment (configured under [governance.environments]).
        #[arg(long)]
        env: Option<String>,
    },
    /// Deferred decisions waiting for a human.
    Pending,
    /// Approve a deferred decision.
    Approve(ResolveArgs),
    /// Reject a deferred decision.
    Reject(ResolveArgs),
    /// Re-derive a past decision from the chain.
    Recheck {
        /// Sequence of the gate.decision event.
        seq: u64,
    },
    /// The configured rules and their hash.
    Rules,
}

/// Approve / reject.
#[derive(Args, Debug)]
pub struct ResolveArgs {
    /// Decision id (its sequence, as `weft gate pending` shows).
    pub id: u64,
    /// Why.
    #[arg(long)]
    pub note: Option<String>,
}

/// `weft witness ...`.
#[derive(Subcommand, Debug)]
pub enum WitnessCommand {
    /// Record a witness of another chain's signed head or of an artifact.
    Add(WitnessArgs),
}

/// `weft witness add`.
#[derive(Args, Debug)]
pub struct WitnessArgs {
    /// A signed head as JSON (`weft chain head --json` of the other repository).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["artifact"], required_unless_present = "artifact")]
    pub head: Option<PathBuf>,
    /// An artifact file to hash with SHAKE-256.
    #[arg(long, value_name = "FILE")]
    pub artifact: Option<PathBuf>,
    /// Name of the artifact (default: its file name).
    #[arg(long, requires = "artifact")]
    pub name: Option<String>,
    /// Bind the witness to this local event.
    #[arg(long, value_name = "SEQ")]
    pub local: Option<u64>,
    /// Free text.
    #[arg(long)]
    pub note: Option<String>,
}

/// `weft lineage ...`.
#[derive(Subcommand, Debug)]
pub enum LineageCommand {
    /// Record that CHILD was derived from parent events.
    Add(LineageArgs),
}

/// `weft lineage add`.
#[derive(Args, Debug)]
pub struct LineageArgs {
    /// The child object's id (free text, e.g. release/1.2.0).
    #[arg(long)]
    pub child: String,
    /// A parent event: SEQ on this chain, or CHAIN_ID:SEQ on another (repeatable).
    #[arg(long = "parent", required = true)]
    pub parents: Vec<String>,
    /// The parent's hash (required for another chain's event; checked for a local one).
    #[arg(long = "parent-hash")]
    pub parent_hashes: Vec<String>,
    /// clone, mutate, combine, derive or fork.
    #[arg(long, default_value = "derive")]
    pub derivation: String,
    /// Free text.
    #[arg(long)]
    pub note: Option<String>,
}

/// `weft demo`.
#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Keep the demo repository in DIR (must not exist) instead of a temporary one.
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,
}
