//! `weft symbols`, `deps`, `history`, `cochange`, `search`, `embed`: the knowledge graph.

use crate::args::{CochangeArgs, EmbedArgs, HistoryArgs, SearchArgs, SymbolsArgs, SymbolsKind};
use crate::ctx::{input, Ctx};
use crate::{exit, out};
use anyhow::Result;
use serde_json::json;
use std::io::Write;
use std::path::Path;
use weft_node::graph::{deps, KnowledgeGraph};
use weft_node::{Layout, NodeError, WeaveConfig};

/// Opens the knowledge graph of the node containing the working directory (the chain
/// is not needed, so its lock is not taken).
pub fn open_graph(ctx: &Ctx) -> Result<KnowledgeGraph> {
    let layout = ctx.layout()?;
    let config = WeaveConfig::load(&layout.root).map_err(NodeError::from)?;
    Ok(weft_node::engine::open_graph(&layout, &config).map_err(NodeError::from)?)
}

/// A user-given path as a repository-relative, `/`-separated path ("" for the root).
pub fn repo_relative(ctx: &Ctx, root: &Path, path: &Path) -> Result<String> {
    let joined = ctx.dir.join(path);
    let abs = joined.canonicalize().unwrap_or(joined);
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let rel = abs.strip_prefix(&root).map_err(|_| {
        input(format!(
            "{} is outside the repository {}",
            path.display(),
            root.display()
        ))
    })?;
    Ok(rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/"))
}

fn scan(ctx: &Ctx, graph: &KnowledgeGraph) -> Result<weft_node::graph::scan::Scan> {
    let bar = out::stage_bar(ctx, "scan", ctx.json);
    let scan = graph
        .scan(&|done, total| {
            bar.set_length(total);
            bar.set_position(done);
        })
        .map_err(NodeError::from)?;
    bar.finish_and_clear();
    Ok(scan)
}

/// Prints a scan's files as `{"files", "parsed", "cached"}`, serialised straight from
/// the scan (no intermediate JSON tree: large outputs).
fn files_json<F: serde::Serialize>(
    ctx: &Ctx,
    files: Vec<F>,
    parsed: usize,
    cached: usize,
) -> Result<u8> {
    #[derive(serde::Serialize)]
    struct Out<F> {
        files: Vec<F>,
        parsed: usize,
        cached: usize,
    }
    out::json_serialize(
        ctx,
        &Out {
            files,
            parsed,
            cached,
        },
    )?;
    Ok(exit::OK)
}

pub fn symbols(ctx: &Ctx, args: SymbolsArgs) -> Result<u8> {
    if let Some(peer) = &args.peer {
        return super::peer_query::symbols(ctx, &args, peer);
    }
    let graph = open_graph(ctx)?;
    let prefix = match &args.path {
        Some(p) => {
            if !ctx.dir.join(p).exists() {
                return Err(input(format!("{}: no such file or directory", p.display())));
            }
            repo_relative(ctx, graph.root(), p)?
        }
        None => String::new(),
    };
    if args.kind == SymbolsKind::Config {
        return config_keys(ctx, &graph, &prefix, args.path.is_some());
    }
    let scan = scan(ctx, &graph)?;
    let files: Vec<_> = scan
        .files
        .iter()
        .filter(|f| weft_node::graph::scan::is_under(&f.path, &prefix))
        .collect();
    if args.path.is_some() && files.is_empty() {
        return Err(input(format!(
            "{prefix}: no source file weft analyses here (languages: rust, python, javascript, typescript, go)"
        )));
    }
    if ctx.json {
        // Serialised straight from the scan (no intermediate JSON tree): large outputs.
        #[derive(serde::Serialize)]
        struct FileOut<'a> {
            path: &'a str,
            language: weft_node::graph::lang::Language,
            #[serde(flatten)]
            facts: &'a weft_node::graph::facts::FileFacts,
        }
        let files = files
            .iter()
            .map(|f| FileOut {
                path: &f.path,
                language: f.language,
                facts: &f.facts,
            })
            .collect();
        return files_json(ctx, files, scan.parsed, scan.reused);
    }
    let mut stdout = std::io::BufWriter::new(crate::out::Output::stdout(ctx));
    for f in &files {
        for s in &f.facts.symbols {
            let cx = if s.kind.is_callable() {
                format!("  cx {} loc {}", s.complexity, s.loc)
            } else {
                String::new()
            };
            writeln!(stdout, "{}{cx}", out::symbol_line(&f.path, s))?;
        }
    }
    stdout.flush()?;
    let count: usize = files.iter().map(|f| f.facts.symbols.len()).sum();
    complain!(ctx;
        "{count} symbols in {} files ({} parsed, {} from cache)",
        files.len(),
        scan.parsed,
        scan.reused
    );
    Ok(exit::OK)
}

/// `weft symbols --kind config`: the keys of the configuration files at or under
/// `prefix`; files that do not parse are listed with their error (a warning, not a
/// failure).
fn config_keys(ctx: &Ctx, graph: &KnowledgeGraph, prefix: &str, asked: bool) -> Result<u8> {
    let bar = out::stage_bar(ctx, "scan config", ctx.json);
    let scan = graph
        .scan_config(&|done, total| {
            bar.set_length(total);
            bar.set_position(done);
        })
        .map_err(NodeError::from)?;
    bar.finish_and_clear();
    let files: Vec<_> = scan
        .files
        .iter()
        .filter(|f| weft_node::graph::scan::is_under(&f.path, prefix))
        .collect();
    if asked && files.is_empty() {
        return Err(input(format!(
            "{prefix}: no configuration file weft reads here (.toml, .yaml, .yml, .json, .jsonc; lock files are left out)"
        )));
    }
    if ctx.json {
        #[derive(serde::Serialize)]
        struct FileOut<'a> {
            path: &'a str,
            format: weft_node::graph::config_schema::ConfigFormat,
            #[serde(flatten)]
            facts: &'a weft_node::graph::config_schema::ConfigFacts,
        }
        let files = files
            .iter()
            .map(|f| FileOut {
                path: &f.path,
                format: f.format,
                facts: &f.facts,
            })
            .collect();
        return files_json(ctx, files, scan.parsed, scan.reused);
    }
    let mut stdout = std::io::BufWriter::new(crate::out::Output::stdout(ctx));
    for f in &files {
        let documents = f.facts.keys.iter().any(|k| k.document > 0);
        for k in &f.facts.keys {
            let doc = if documents {
                format!("  (document {})", k.document)
            } else {
                String::new()
            };
            writeln!(
                stdout,
                "{}:{}  {:<8} {}{doc}",
                f.path,
                k.line,
                k.value.as_str(),
                k.path
            )?;
        }
    }
    stdout.flush()?;
    for f in &files {
        if let Some(m) = &f.facts.malformed {
            complain!(ctx; "warning: {}:{}: {}; keys after it may be missing", f.path, m.line, m.message);
        }
        for note in &f.facts.notes {
            complain!(ctx; "warning: {}: {note}", f.path);
        }
    }
    let count: usize = files.iter().map(|f| f.facts.keys.len()).sum();
    complain!(ctx;
        "{count} config keys in {} files ({} parsed, {} from cache)",
        files.len(),
        scan.parsed,
        scan.reused
    );
    Ok(exit::OK)
}

/// `weft modules`: the import graph folded onto units, with cycles and hotspots.
pub fn modules(ctx: &Ctx) -> Result<u8> {
    use weft_node::graph::assess::modules::ModuleGraph;
    let layout = ctx.layout()?;
    let config = WeaveConfig::load(&layout.root).map_err(NodeError::from)?;
    let graph = open_graph(ctx)?;
    let scan = scan(ctx, &graph)?;
    let manifests = deps::manifests(graph.root());
    let bar = out::stage_bar(ctx, "history", ctx.json);
    let (history, _) = graph
        .history(&graph.mining_config(None), &mut |done, total| {
            bar.set_length(total);
            bar.set_position(done);
        })
        .map_err(NodeError::from)?;
    bar.finish_and_clear();
    let imports = weft_node::graph::imports::ImportGraph::build(&scan.files, &manifests);
    let limits = config
        .assessment
        .rule_config(&config.architecture)
        .god_file_limits();
    let modules = ModuleGraph::build(&scan.files, &history, &imports, limits);
    if ctx.json {
        out::json_serialize(ctx, &modules)?;
        return Ok(exit::OK);
    }
    say!(ctx;
        "{:<48} {:>5} {:>7} {:>4} {:>4} {:>6}  HOT",
        "MODULE", "FILES", "LINES", "IN", "OUT", "CHURN"
    );
    for m in &modules.modules {
        say!(ctx;
            "{:<48} {:>5} {:>7} {:>4} {:>4} {:>6}  {}",
            m.id,
            m.files,
            m.lines,
            m.fan_in,
            m.fan_out,
            m.churn,
            if m.hotspot { format!("{:.2}", m.score) } else { "-".into() }
        );
    }
    say!(ctx; "{} imports between modules", modules.edges.len());
    for cycle in &modules.cycles {
        say!(ctx; "cycle: {}", cycle.join(" → "));
    }
    if modules.truncated {
        say!(ctx; "note: the import graph was cut at its bound; some imports are missing");
    }
    Ok(exit::OK)
}

pub fn deps(ctx: &Ctx) -> Result<u8> {
    let graph = open_graph(ctx)?;
    let scan = scan(ctx, &graph)?;
    let manifests = deps::manifests(graph.root());
    let issues = deps::dependency_issues(graph.root(), &manifests, &scan.files);
    if ctx.json {
        let files: Vec<_> = scan
            .files
            .iter()
            .map(|f| json!({"path": f.path, "language": f.language, "imports": f.facts.imports}))
            .collect();
        ctx.print_json(&json!({"files": files, "manifests": manifests, "issues": issues}));
        return Ok(exit::OK);
    }
    for f in &scan.files {
        let mut modules: Vec<&str> = f.facts.imports.iter().map(|i| i.module.as_str()).collect();
        modules.dedup();
        if !modules.is_empty() {
            say!(ctx; "{} → {}", f.path, modules.join(", "));
        }
    }
    for m in &manifests {
        say!(ctx);
        match &m.error {
            Some(e) => say!(ctx; "{} ({:?}): unreadable: {e}", m.path, m.ecosystem),
            None => {
                let names: Vec<String> = m
                    .dependencies
                    .iter()
                    .map(|d| {
                        if d.kind == "normal" {
                            d.name.clone()
                        } else {
                            format!("{} ({})", d.name, d.kind)
                        }
                    })
                    .collect();
                say!(ctx; "{} declares: {}", m.path, names.join(", "));
            }
        }
    }
    for i in &issues {
        match &i.file {
            Some((file, line)) => say!(ctx;
                "{}: `{}` {} (imported at {file}:{line})",
                i.manifest,
                i.package,
                i.issue
            ),
            None => say!(ctx; "{}: `{}` {}", i.manifest, i.package, i.issue),
        }
    }
    Ok(exit::OK)
}

fn mine(
    ctx: &Ctx,
    graph: &KnowledgeGraph,
    max_commits: Option<usize>,
) -> Result<(
    weft_node::graph::history::History,
    weft_node::graph::history::MineOutcome,
)> {
    let cfg = graph.mining_config(max_commits);
    let bar = out::stage_bar(ctx, "history", ctx.json);
    let result = graph
        .history(&cfg, &mut |done, total| {
            bar.set_length(total);
            bar.set_position(done);
        })
        .map_err(NodeError::from)?;
    bar.finish_and_clear();
    Ok(result)
}

pub fn history(ctx: &Ctx, args: HistoryArgs) -> Result<u8> {
    if args.max_commits == Some(0) {
        return Err(input("--max-commits must be at least 1"));
    }
    let graph = open_graph(ctx)?;
    let (history, outcome) = mine(ctx, &graph, args.max_commits)?;
    let cfg = graph.mining_config(args.max_commits);
    let mut files = history.files();
    files.sort_by(|a, b| b.commits.cmp(&a.commits).then_with(|| a.path.cmp(&b.path)));
    let patterns = history.patterns(&cfg);
    if ctx.json {
        ctx.print_json(&json!({
            "commits": history.commit_count(),
            "new_commits": outcome.new_commits,
            "rebuilt": outcome.rebuilt,
            "last_commit": history.last_commit(),
            "files": files,
            "couplings": history.couplings(&cfg),
            "patterns": patterns,
        }));
        return Ok(exit::OK);
    }
    say!(ctx;
        "{} commits mined ({} new{})",
        history.commit_count(),
        outcome.new_commits,
        if outcome.rebuilt {
            ", history rewritten: mined again"
        } else {
            ""
        }
    );
    say!(ctx;
        "{:>7} {:>8} {:>8}  {:<40} main author",
        "commits",
        "+lines",
        "-lines",
        "file"
    );
    for f in files.iter().take(args.top) {
        let main = f.authors.first().map_or(String::new(), |a| {
            format!("{} ({:.0}%)", a.name, f.main_author_share * 100.0)
        });
        say!(ctx;
            "{:>7} {:>8} {:>8}  {:<40} {main}",
            f.commits,
            f.lines_added,
            f.lines_removed,
            f.path
        );
    }
    let types: Vec<String> = patterns
        .by_type
        .iter()
        .map(|(t, n)| format!("{t} {n}"))
        .collect();
    say!(ctx;
        "commit types: {}; fix ratio {:.0}%; {} burst(s)",
        types.join(", "),
        patterns.fix_ratio * 100.0,
        patterns.bursts.len()
    );
    Ok(exit::OK)
}

pub fn cochange(ctx: &Ctx, args: CochangeArgs) -> Result<u8> {
    let graph = open_graph(ctx)?;
    let file = repo_relative(ctx, graph.root(), &args.file)?;
    let (history, _) = mine(ctx, &graph, args.max_commits)?;
    let cfg = graph.mining_config(args.max_commits);
    let Some(stats) = history.file(&file) else {
        return Err(input(format!(
            "{file}: no commit in the mined history touches this file (is the path right, and committed?)"
        )));
    };
    let partners = history.coupling(&file, &cfg);
    if ctx.json {
        ctx.print_json(&json!({
            "file": file,
            "history": stats,
            "thresholds": {
                "min_revs": cfg.min_revs, "min_shared_revs": cfg.min_shared_revs,
                "min_coupling": cfg.min_coupling, "max_changeset_size": cfg.max_changeset_size,
            },
            "partners": partners,
        }));
        return Ok(exit::OK);
    }
    say!(ctx; "{file}: {} commits", stats.commits);
    if partners.is_empty() {
        say!(ctx;
            "no co-change partner passes the thresholds (min revisions {}, min shared {}, min coupling {}%)",
            cfg.min_revs, cfg.min_shared_revs, cfg.min_coupling
        );
    }
    for p in &partners {
        say!(ctx;
            "{:>5.0}%  shared {:>3}  confidence {:>3.0}%  support {:.3}  {}",
            p.degree,
            p.shared_revs,
            p.confidence * 100.0,
            p.support,
            p.partner
        );
    }
    Ok(exit::OK)
}

pub fn search(ctx: &Ctx, args: SearchArgs) -> Result<u8> {
    if args.query.trim().is_empty() {
        return Err(input("the search query is empty"));
    }
    let node = ctx.node()?;
    let graph = node.graph()?;
    let mut embedder = graph.embedder().map_err(NodeError::from)?;
    let scan = scan(ctx, &graph)?;
    let bar = out::stage_bar(ctx, "embed", ctx.json);
    let (stats, index, provenance) = weft_node::provenance::sync_recorded(
        &node,
        &graph,
        &scan,
        &mut embedder,
        &|done, total| {
            bar.set_length(total);
            bar.set_position(done);
        },
    )?;
    bar.finish_and_clear();
    let hits = weft_node::provenance::search(&mut embedder, &index, &args.query, args.k as usize)?;
    if args.peers {
        return super::peer_query::search(ctx, &args, &stats, &provenance, hits);
    }
    if ctx.json {
        ctx.print_json(
            &json!({"query": args.query, "index": stats, "provenance": provenance, "hits": hits}),
        );
        return Ok(exit::OK);
    }
    for h in &hits {
        say!(ctx;
            "{:.3}  {}:{}  {} {}",
            h.score,
            h.entry.path,
            h.entry.line,
            h.entry.kind.as_str(),
            h.entry.qualified
        );
    }
    Ok(exit::OK)
}

pub fn embed(ctx: &Ctx, args: EmbedArgs) -> Result<u8> {
    let layout = Layout::discover(&ctx.dir);
    let config = match &layout {
        Some(l) => WeaveConfig::load(&l.root).map_err(NodeError::from)?,
        None => WeaveConfig::default(),
    };
    let graph_err = |e| NodeError::from(weft_node::graph::GraphError::from(e));
    let mut embedder = config.embeddings.model_config().load().map_err(graph_err)?;
    let vector = embedder.embed(&[&args.text]).map_err(graph_err)?.remove(0);
    if ctx.json {
        ctx.print_json(&json!({"text": args.text, "model": weft_node::graph::embed::EMBEDDING_ID, "dimensions": vector.len(), "vector": vector}),
        );
    } else {
        let text: Vec<String> = vector.iter().map(|v| format!("{v:.6}")).collect();
        say!(ctx; "{}", text.join(" "));
    }
    Ok(exit::OK)
}
