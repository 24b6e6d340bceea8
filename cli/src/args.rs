//! Command-line syntax (clap). Checked values become library calls in `cmd`.

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueHint};
use std::path::{Path, PathBuf};

/// The hint every path argument carries: a command line the daemon parses for a client
/// makes these absolute against the client's working directory.
const PATH: ValueHint = ValueHint::AnyPath;

/// Parses a command line a client sent, with relative paths taken from its `cwd`.
pub fn parse_for_client(args: &[String], cwd: &Path) -> Result<Cli, clap::Error> {
    let command = rebase_paths(Cli::command(), cwd);
    let matches = command
        .try_get_matches_from(std::iter::once("weft").chain(args.iter().map(String::as_str)))?;
    Cli::from_arg_matches(&matches)
}

/// `command` with every path argument (of it and its subcommands) parsed against `cwd`
/// (`-` stays standard input).
fn rebase_paths(mut command: clap::Command, cwd: &Path) -> clap::Command {
    let paths: Vec<clap::Id> = command
        .get_arguments()
        .filter(|a| a.get_value_hint() == PATH)
        .map(|a| a.get_id().clone())
        .collect();
    for id in paths {
        let base = cwd.to_path_buf();
        command = command.mut_arg(id, move |arg| {
            arg.value_parser(move |text: &str| {
                let path = PathBuf::from(text);
                Ok::<PathBuf, String>(if text == "-" || path.is_absolute() {
                    path
                } else {
                    base.join(path)
                })
            })
        });
    }
    let names: Vec<String> = command
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    for name in names {
        command = command.mut_subcommand(name, |sub| rebase_paths(sub, cwd));
    }
    command
}

/// weft: every repository a node of a coordination mesh.
///
/// Exit codes: 0 ok; 1 verification failed or gate denied; 2 bad usage or input
/// (nothing changed); 3 gate deferred; 4 operational failure (I/O, locked store).
#[derive(Parser, Debug)]
#[command(name = "weft", version, propagate_version = true)]
pub struct Cli {
    /// Run as if started in DIR (like `git -C`).
    #[arg(short = 'C', value_name = "DIR", global = true, value_hint = PATH)]
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
    /// The module graph: each file (a Go package: its directory) with its size, fan-in,
    /// fan-out and churn, the imports between them, import cycles and god-file hotspots.
    Modules,
    /// Git history: churn, authors and ownership per file, commit patterns.
    History(HistoryArgs),
    /// Files that usually change together with FILE (co-change coupling).
    Cochange(CochangeArgs),
    /// Semantic search over the code's symbols (MiniLM embeddings, HNSW index).
    Search(SearchArgs),
    /// Print the embedding vector of a text (for parity checks with other runtimes).
    Embed(EmbedArgs),
    /// Build the knowledge graph (`init`, SOP 2), assess the code and record the report on
    /// the chain (`run`, the default, SOP 4), or compare reports (`diff`).
    Assess(AssessArgs),
    /// Install or remove weft's post-commit and pre-push hooks.
    #[command(subcommand)]
    Hooks(HooksCommand),
    /// Watch the working tree and assess changed files as they settle.
    Watch(WatchArgs),
    /// The node daemon: joins the mesh, follows peers, serves commands.
    #[command(subcommand)]
    Node(NodeCommand),
    /// The project's Raft cluster: several machines holding one chain (docs/cluster.md).
    #[command(subcommand)]
    Cluster(ClusterCommand),
    /// Peers: list them with their heads and replicas, or add one.
    Peers(PeersArgs),
    /// Equivocation evidence: check a file offline.
    #[command(subcommand)]
    Evidence(EvidenceCommand),
    /// The testnet: run a generated node, inject faults (see docs/testnet.md).
    #[command(subcommand)]
    Testnet(TestnetCommand),
    /// Cross-project coordination: link peers, impact before a release, gated release,
    /// acknowledgements (SOP 3).
    #[command(subcommand)]
    Coordinate(CoordinateCommand),
    /// SOP runs recorded on the chain: per operation its count, durations, failure rate
    /// and trend, and the friction worth a change to the SOP (SOP 5, docs/sops.md).
    Stats(StatsArgs),
    /// A local web page of the organisation: a release's impact across repositories,
    /// the mesh, the chain with proofs checked in the browser, the module graph. Serves
    /// on 127.0.0.1 with a per-run token until interrupted, or `--export`s static files.
    Ui(UiArgs),
}

/// `weft ui`.
#[derive(Args, Debug)]
pub struct UiArgs {
    /// Port to listen on (0: any free one; the address is printed).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Address to listen on. Anything but loopback exposes the chain and the code graph
    /// to whoever can reach it and has the token.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: std::net::IpAddr,
    /// Open the page in the desktop's browser (`xdg-open`).
    #[arg(long, conflicts_with = "export")]
    pub open: bool,
    /// Write the views as static files to DIR instead of serving them (opens from
    /// `file://`; a CI artifact).
    #[arg(long, value_name = "DIR", value_hint = clap::ValueHint::DirPath)]
    pub export: Option<std::path::PathBuf>,
    /// Test aid: serve every inclusion proof with one digit changed, to see the page's
    /// own check fail.
    #[arg(long, hide = true)]
    pub serve_tampered_proofs: bool,
}

/// `weft stats`.
#[derive(Args, Debug)]
pub struct StatsArgs {
    /// Only runs since DATE: `2026-11-01`, an RFC 3339 time, or an age such as `7d`
    /// or `12h` (default: every run on the chain).
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
}

/// `weft coordinate ...`.
#[derive(Subcommand, Debug)]
pub enum CoordinateCommand {
    /// Link a peer repository (added to `[coordination] peers`) and witness its signed
    /// head here, and this head there when its node is reachable.
    Link {
        /// Name for it (letters, digits, `.`, `_`, `-`).
        name: String,
        /// The peer's repository on this machine.
        #[arg(long, value_name = "DIR", required_unless_present = "addr")]
        #[arg(value_hint = PATH)]
        path: Option<PathBuf>,
        /// Its multiaddr (a remote peer, asked over the mesh).
        #[arg(long, value_name = "MULTIADDR", requires = "peer_id")]
        addr: Option<String>,
        /// Its peer id (from its `weft status`).
        #[arg(long, value_name = "ID")]
        peer_id: Option<String>,
    },
    /// Which peer repositories, files and symbols what changed since the last release
    /// affects (recorded as `coordinate.impact`).
    Impact(ImpactArgs),
    /// Release VERSION through the governance gate: impact, decision, `release.publish`,
    /// `/releases/VERSION`. Exit 3 when deferred, 1 when denied.
    Release(ReleaseArgs),
    /// Acknowledge PROJECT's release VERSION: witness its head, record a lineage record
    /// derived from the release and `coordinate.ack`.
    Ack {
        /// The linked peer that released.
        project: String,
        /// Its version.
        #[arg(value_name = "VERSION")]
        release_version: String,
        /// Free text kept in the acknowledgement.
        #[arg(long)]
        note: Option<String>,
    },
    /// Releases of this project with affected peers and acknowledgements, and the linked
    /// peers' releases.
    Status,
    /// A recorded impact report (the newest, or the `coordinate.impact` event SEQ),
    /// shown only when its file still has the hash the event recorded (exit 1 if not).
    Report {
        /// The `coordinate.impact` event (default: the newest).
        seq: Option<u64>,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: ImpactFormat,
    },
    /// Build or type-check this repository against an upstream's commit, in a temporary
    /// copy, and record the outcome as `coordinate.check` (what `impact --check` runs in
    /// each local peer). Exit 0 pass, 1 fail or timeout, 4 not checked.
    Check(CheckArgs),
}

/// `weft coordinate check`.
#[derive(Args, Debug)]
pub struct CheckArgs {
    /// The upstream repository (a directory inside it).
    #[arg(long, value_name = "PATH", value_hint = PATH)]
    pub upstream: PathBuf,
    /// Its commit to check against (default: its HEAD).
    #[arg(long, value_name = "SHA")]
    pub commit: Option<String>,
    /// The upstream's earlier commit: when the check fails, build against it too and
    /// blame the change only for errors that are new.
    #[arg(long = "base", value_name = "SHA")]
    pub baseline: Option<String>,
    /// Seconds the check may take (default: `[coordination] check_timeout`, else 600);
    /// then its process group is killed and the outcome is `timeout`.
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub check_timeout: Option<u64>,
}

/// Which peers `impact --check` builds.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckScope {
    /// The peers found affected.
    Affected,
    /// Every linked (selected) peer.
    All,
}

/// Output of `coordinate impact`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImpactFormat {
    /// Aligned text for people.
    Table,
    /// The report document (docs/coordination.md).
    Json,
    /// SARIF 2.1.0, one result per affected use in a peer.
    Sarif,
    /// Graphviz DOT: changed symbols → peers' files, edges coloured by class.
    Dot,
    /// A Mermaid flowchart of the same graph (for Markdown documents and pull requests).
    Mermaid,
}

/// Peer severity threshold for the exit code of `coordinate impact`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImpactFailOn {
    /// Always exit 0 when the impact was computed.
    None,
    /// Exit 1 when an affected peer uses something breaking.
    Breaking,
    /// ... or when the project added API an affected peer may use.
    Additive,
    /// ... or when any peer depends on the project.
    Informational,
}

/// `weft coordinate impact`.
#[derive(Args, Debug)]
pub struct ImpactArgs {
    /// Compare with this tag or revision (default: the last release on the chain, else
    /// the last version tag).
    #[arg(long, value_name = "TAG|REF")]
    pub since: Option<String>,
    /// Only this peer (repeatable; default: every linked peer).
    #[arg(long = "peer", value_name = "NAME")]
    pub peers: Vec<String>,
    /// The version peers' requirements are checked against (default: the manifests'
    /// version at HEAD).
    #[arg(long = "for-version", value_name = "VERSION")]
    pub for_version: Option<String>,
    /// Days after a past release in which a peer's change counts as co-change.
    #[arg(long, value_name = "DAYS", default_value_t = 14)]
    pub window_days: u32,
    /// Output format (--json is the same as --format json).
    #[arg(long, value_enum, default_value = "table")]
    pub format: ImpactFormat,
    /// Exit 1 when an affected peer is at least this severely affected.
    #[arg(long, value_enum, default_value = "none")]
    pub fail_on: ImpactFailOn,
    /// Also build or type-check peers against this head (`cargo check`, `go build && go
    /// vet`, Python imports, `tsc`, or the peer's `[coordination] check`), one at a
    /// time, each in a temporary copy: the affected ones (default) or all.
    #[arg(
        long,
        value_enum,
        value_name = "WHICH",
        num_args = 0..=1,
        default_missing_value = "affected",
        require_equals = false
    )]
    pub check: Option<CheckScope>,
    /// Seconds one peer's check may take (default: the peer's `[coordination]
    /// check_timeout`, else 600); then it is killed and reported `timeout`.
    #[arg(long, value_name = "SECS", requires = "check", value_parser = clap::value_parser!(u64).range(1..))]
    pub check_timeout: Option<u64>,
}

/// `weft coordinate release`.
#[derive(Args, Debug)]
pub struct ReleaseArgs {
    /// The version (also the tree path `/releases/VERSION`).
    #[arg(value_name = "VERSION")]
    pub release_version: String,
    /// Governance environment (`[governance.environments]`).
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
    /// Compare with this tag or revision (default: the last release).
    #[arg(long, value_name = "TAG|REF")]
    pub since: Option<String>,
    /// An artifact to hash into the release (repeatable).
    #[arg(long = "artifact", value_name = "FILE")]
    #[arg(value_hint = PATH)]
    pub artifacts: Vec<PathBuf>,
}

/// `weft testnet ...`.
/// `weft testnet node --cluster`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TestnetClusterRole {
    /// Form the cluster.
    Found,
    /// Join it once told to.
    Join,
}

#[derive(Subcommand, Debug)]
pub enum TestnetCommand {
    /// Create this node's sample repository on first use (key derived from --seed and
    /// --name: testnets only), then run its daemon in the foreground.
    Node {
        /// Node name; its repository is DATA/NAME.
        #[arg(long)]
        name: String,
        /// Directory holding the nodes' repositories.
        #[arg(long, value_name = "DIR", default_value = "/data")]
        #[arg(value_hint = PATH)]
        data: PathBuf,
        /// Seed every testnet key is derived from (anyone knowing it holds the keys).
        #[arg(long, default_value = "weft-testnet")]
        seed: String,
        /// Gossip organisation.
        #[arg(long, default_value = "testnet")]
        organisation: String,
        /// Listen address (repeatable).
        #[arg(
            long,
            value_name = "MULTIADDR",
            default_value = "/ip4/0.0.0.0/tcp/4001"
        )]
        listen: Vec<String>,
        /// A peer as NAME=MULTIADDR (repeatable); its id is derived like this node's.
        #[arg(long = "peer", value_name = "NAME=MULTIADDR")]
        peers: Vec<String>,
        /// Its part in a Raft cluster: `found` forms one on its own chain (once), `join`
        /// holds no chain and waits until `weft cluster join` has prepared it.
        #[arg(long, value_enum)]
        cluster: Option<TestnetClusterRole>,
        /// With `--cluster found`: the address the other members dial it at.
        #[arg(long, value_name = "MULTIADDR")]
        advertise: Option<String>,
    },
    /// Through the running daemon: announce a second, different head for the current
    /// sequence (an equivocation every honest peer must flag).
    Equivocate,
    /// Through the running daemon: make its mesh task panic (the daemon must stop and
    /// log why).
    CrashMesh,
    /// Through the running daemon: publish undecodable gossip.
    Flood {
        /// Most messages.
        #[arg(long, default_value_t = 100_000)]
        count: u64,
        /// Most seconds.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
}

/// `weft node ...`.
#[derive(Subcommand, Debug)]
pub enum NodeCommand {
    /// Start the daemon (in the background unless --foreground).
    Start {
        /// Listen on this multiaddr instead of `[network] listen` (repeatable).
        #[arg(long, value_name = "MULTIADDR")]
        listen: Vec<String>,
        /// Stay in the foreground, logging to standard error as well.
        #[arg(long)]
        foreground: bool,
    },
    /// Stop the running daemon and wait until it has released the store.
    Stop,
    /// Whether a daemon runs, its peer id, addresses and peers.
    Status,
}

/// `weft cluster ...`.
#[derive(Subcommand, Debug)]
pub enum ClusterCommand {
    /// Make this node a cluster of one (run with the daemon stopped); prints the token
    /// others join with.
    Init {
        /// This member's name (default: host and directory).
        #[arg(long)]
        name: Option<String>,
        /// The address other members dial this one at (default: its first listen
        /// address, `0.0.0.0` read as 127.0.0.1), e.g. /dns4/db1/tcp/4001.
        #[arg(long, value_name = "MULTIADDR")]
        advertise: Option<String>,
    },
    /// Make this fresh clone a member of the cluster a member at ADDR runs; it joins as a
    /// learner when its daemon starts, catches up, and becomes a voter.
    Join {
        /// A member's multiaddr (`weft cluster status` there shows it).
        addr: String,
        /// That member's peer id.
        #[arg(long, value_name = "ID")]
        peer_id: String,
        /// The join token `weft cluster init` printed.
        #[arg(long, env = "WEFT_CLUSTER_TOKEN", hide_env_values = true)]
        token: String,
        /// This member's name (default: host and directory).
        #[arg(long)]
        name: Option<String>,
        /// The address other members dial this one at (as for `init`).
        #[arg(long, value_name = "MULTIADDR")]
        advertise: Option<String>,
    },
    /// Members, roles, leader, term, commit and applied index, lag.
    Status,
    /// Take this member out of the cluster (the leader runs the change).
    Leave,
    /// Take member NAME out of the cluster (a dead one, say).
    Remove {
        /// The member's name.
        name: String,
    },
}

/// `weft peers`.
#[derive(Args, Debug)]
pub struct PeersArgs {
    /// `add` to add a peer, `trust` to accept a changed or new key (the default lists
    /// them).
    #[command(subcommand)]
    pub command: Option<PeersCommand>,
}

/// `weft peers add`.
#[derive(Subcommand, Debug)]
pub enum PeersCommand {
    /// Add a peer to `[coordination] peers` in weave.toml (checked, then written).
    Add {
        /// Name for it (letters, digits, `.`, `_`, `-`).
        name: String,
        /// Its node address, e.g. /ip4/10.0.0.5/tcp/4001.
        #[arg(long, value_name = "MULTIADDR")]
        addr: Option<String>,
        /// Its peer id (from its `weft status`): makes its key trusted.
        #[arg(long, value_name = "PEER_ID")]
        peer_id: Option<String>,
        /// A local path to its repository: its key and address are read from there.
        #[arg(long, value_name = "DIR")]
        #[arg(value_hint = PATH)]
        path: Option<PathBuf>,
        /// Another address serving its chain: a member of the cluster that replicates
        /// it (repeat for each; its members' keys are learnt from the chain).
        #[arg(long = "member-addr", value_name = "MULTIADDR")]
        member_addrs: Vec<String>,
    },
    /// Accept the key weave.toml now gives peer NAME (a changed key, or a peer the file
    /// added after this node pinned its trust), or with --open accept `trust = "open"`.
    Trust {
        /// The peer (as `weft peers` names it).
        #[arg(required_unless_present = "open", conflicts_with = "open")]
        name: Option<String>,
        /// Accept `[network] trust = "open"`: follow any signer.
        #[arg(long)]
        open: bool,
    },
}

/// `weft evidence ...`.
#[derive(Subcommand, Debug)]
pub enum EvidenceCommand {
    /// Check that FILE proves one key signed two histories (no node needed).
    Verify {
        /// Evidence file (CBOR), as kept in `.weftos/evidence/`.
        #[arg(value_hint = PATH)]
        file: PathBuf,
    },
}

/// What `weft symbols` lists.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SymbolsKind {
    /// Symbols of the source files (functions, types, ...).
    Code,
    /// Keys of the TOML, YAML and JSON files: key path, value type, line.
    Config,
}

/// `weft symbols`.
#[derive(Args, Debug)]
pub struct SymbolsArgs {
    /// A file or directory (default: the whole repository).
    #[arg(value_hint = PATH, conflicts_with = "peer")]
    pub path: Option<PathBuf>,
    /// What to list: source symbols, or configuration keys.
    #[arg(long, value_enum, default_value_t = SymbolsKind::Code, conflicts_with = "peer")]
    pub kind: SymbolsKind,
    /// Look the symbols up in a linked peer's repository instead (read directly for a
    /// local-path peer, asked over the mesh through the running daemon otherwise).
    #[arg(long, value_name = "NAME")]
    pub peer: Option<String>,
    /// With --peer: only files at or under this path of the peer's repository.
    #[arg(long, value_name = "PATH", requires = "peer")]
    pub under: Option<String>,
    /// With --peer: only symbols whose qualified name contains this (any case).
    #[arg(long, value_name = "TEXT", requires = "peer")]
    pub name: Option<String>,
    /// With --peer: list at most this many symbols (the rest are counted).
    #[arg(long, value_name = "N", default_value_t = 500, requires = "peer",
          value_parser = clap::value_parser!(u32).range(1..=5000))]
    pub limit: u32,
    /// With --peer: seconds to wait for a peer's answer over the mesh.
    #[arg(long, value_name = "SECS", default_value_t = 30, requires = "peer",
          value_parser = clap::value_parser!(u64).range(1..=600))]
    pub timeout: u64,
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
    #[arg(value_hint = PATH)]
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
    /// Also search the linked peers that hold an index (local-path peers read
    /// directly; others asked over the mesh through the running daemon), merged by
    /// score, each hit marked with its project.
    #[arg(long)]
    pub peers: bool,
    /// With --peers: seconds to wait for the peers' answers; a peer slower than this is
    /// reported, not waited for.
    #[arg(long, value_name = "SECS", default_value_t = 10, requires = "peers",
          value_parser = clap::value_parser!(u64).range(1..=600))]
    pub timeout: u64,
    /// With --peers: ask at most N peers. When there are more, local-path peers are
    /// asked first, then the fastest by their advertised calibration (search latency),
    /// then peers with none; the rest are reported as skipped.
    #[arg(long, value_name = "N", default_value_t = 16, requires = "peers",
          value_parser = clap::value_parser!(u16).range(1..=256))]
    pub max_peers: u16,
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

/// `weft assess`: with no subcommand, the same as `weft assess run`.
#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AssessArgs {
    /// Build the graph, run an assessment, or compare reports.
    #[command(subcommand)]
    pub command: Option<AssessCommand>,
    /// The assessment's options (as `weft assess run`).
    #[command(flatten)]
    pub run: AssessRunArgs,
}

/// `weft assess run` (and `weft assess` without a subcommand).
#[derive(Args, Debug)]
pub struct AssessRunArgs {
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
    #[arg(value_hint = PATH)]
    pub output: Option<PathBuf>,
}

/// `weft assess init | run | diff`.
#[derive(Subcommand, Debug)]
pub enum AssessCommand {
    /// Build the whole knowledge graph (symbols, imports, dependencies, history,
    /// embeddings and index) and record the build on the chain (SOP 2). Only what
    /// changed since the last build is redone.
    Init,
    /// Assess the code and record the report on the chain (SOP 4; the same as `weft
    /// assess` with these options).
    Run(AssessRunArgs),
    /// New, fixed and unchanged findings between two reports (default: the two newest
    /// in history; with one argument, that report against the latest).
    Diff {
        /// Older report.
        #[arg(value_hint = PATH)]
        a: Option<PathBuf>,
        /// Newer report.
        #[arg(value_hint = PATH)]
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
        /// Read the replica of peer NAME instead of this node's chain.
        #[arg(long, value_name = "NAME")]
        peer: Option<String>,
        /// Only events of this kind (`coordinate.impact`) or source (`coordinate`);
        /// `--limit` then counts the events shown.
        #[arg(long, value_name = "KIND")]
        kind: Option<String>,
        /// On a cluster member: first wait until this member has applied everything
        /// the cluster committed before the call (the leader's read index).
        #[arg(long, conflicts_with = "peer")]
        linearizable: bool,
    },
    /// The head and its latest signed head.
    Head {
        /// On a cluster member: first wait until this member has applied everything
        /// the cluster committed before the call (the leader's read index).
        #[arg(long)]
        linearizable: bool,
    },
    /// Verify every hash, link, sequence, signature, witness and lineage record.
    Verify {
        /// Verify the replica of peer NAME instead of this node's chain.
        #[arg(long, value_name = "NAME")]
        peer: Option<String>,
    },
    /// Inclusion proof of one event against the latest signed head.
    Proof {
        /// Sequence of the event.
        seq: u64,
        /// Write the proof to FILE instead of standard output.
        #[arg(long, short)]
        #[arg(value_hint = PATH)]
        output: Option<PathBuf>,
    },
    /// Check an inclusion proof offline.
    VerifyProof {
        /// The proof file (`-` for standard input).
        #[arg(value_hint = PATH)]
        file: PathBuf,
        /// Require the head to be signed by this public key (64 hex characters).
        #[arg(long)]
        signer: Option<String>,
    },
    /// Write the chain to a portable segment file.
    Export {
        /// Output file (refused if it exists).
        #[arg(value_hint = PATH)]
        file: PathBuf,
    },
    /// Verify a segment file without importing it.
    VerifyFile {
        /// The file.
        #[arg(value_hint = PATH)]
        file: PathBuf,
    },
    /// Restore the chain from a segment file into an empty store.
    Import {
        /// The file.
        #[arg(value_hint = PATH)]
        file: PathBuf,
    },
    /// Keep the longest valid prefix, quarantine the rest, record a `chain.repair` event.
    /// Refused (exit 2) when it would drop signed heads peers may hold, unless --force.
    Repair {
        /// Drop signed heads anyway (peers that hold them will see two histories).
        #[arg(long)]
        force: bool,
    },
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
    #[arg(value_hint = PATH)]
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
    #[arg(value_hint = PATH)]
    pub head: Option<PathBuf>,
    /// An artifact file to hash with SHAKE-256.
    #[arg(long, value_name = "FILE")]
    #[arg(value_hint = PATH)]
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
    #[arg(value_hint = PATH)]
    pub keep: Option<PathBuf>,
}
