//! `weft chain ...`.

use crate::args::{AppendArgs, ChainCommand};
use crate::ctx::{input, parse_json, read_input_file, Ctx};
use crate::{exit, out};
use anyhow::Result;
use std::io::BufRead;
use std::path::Path;
use weft_kernel::cbor;
use weft_kernel::event::EventDraft;
use weft_kernel::StoredEvent;
use weft_node::engine::OpenMode;
use weft_node::NodeError;

pub fn run(ctx: &Ctx, command: ChainCommand) -> Result<u8> {
    match command {
        ChainCommand::Append(args) => append(ctx, args),
        ChainCommand::Log {
            from,
            limit,
            peer,
            kind,
            linearizable,
        } => {
            barrier(ctx, linearizable)?;
            log(ctx, from, limit, peer.as_deref(), kind.as_deref())
        }
        ChainCommand::Head { linearizable } => {
            barrier(ctx, linearizable)?;
            head(ctx)
        }
        ChainCommand::Verify { peer: Some(name) } => verify_peer(ctx, &name),
        ChainCommand::Verify { peer: None } => verify(ctx),
        ChainCommand::Proof { seq, output } => proof(ctx, seq, output.as_deref()),
        ChainCommand::VerifyProof { file, signer } => verify_proof(ctx, &file, signer.as_deref()),
        ChainCommand::Export { file } => export(ctx, &file),
        ChainCommand::VerifyFile { file } => verify_file(ctx, &file),
        ChainCommand::Import { file } => import(ctx, &file),
        ChainCommand::Repair { force } => repair(ctx, force),
    }
}

fn draft(source: &str, kind: &str, json: &serde_json::Value) -> Result<EventDraft> {
    let payload = cbor::from_json(json).map_err(|e| input(format!("payload: {e}")))?;
    EventDraft::new(source, kind, payload).map_err(|e| input(e.to_string()))
}

/// Prints an appended (or read) event in the chosen format.
pub fn print_event(ctx: &Ctx, stored: &StoredEvent) {
    if ctx.json {
        ctx.print_json(&stored.event.to_json(&stored.hash));
    } else {
        say!(ctx;
            "{} {} {}",
            stored.event.seq,
            stored.event.kind,
            stored.hash
        );
    }
}

fn append(ctx: &Ctx, args: AppendArgs) -> Result<u8> {
    // Validate everything before opening the store, so bad input changes nothing.
    weft_kernel::event::validate_kind(&args.source, &args.kind)
        .map_err(|e| input(e.to_string()))?;
    weft_node::engine::check_user_source(&args.source)?;
    if args.payload.stdin_lines {
        let node = ctx.node()?;
        ctx.io.with_stdin(|stdin| -> Result<()> {
            for (i, line) in stdin.lines().enumerate() {
                let line = line.map_err(|e| input(format!("standard input: {e}")))?;
                if line.trim().is_empty() {
                    continue;
                }
                let d = draft(
                    &args.source,
                    &args.kind,
                    &parse_json(line.as_bytes(), &format!("stdin line {}", i + 1))?,
                )?;
                let stored = node.append_user(d)?;
                // One line per durable event: a caller may rely on every printed line.
                out::json_line(
                    ctx,
                    &serde_json::json!({"seq": stored.event.seq, "hash": stored.hash.to_hex()}),
                )
                .map_err(|e| NodeError::io(Path::new("stdout"), e))?;
            }
            Ok(())
        })?;
        return Ok(exit::OK);
    }
    let json = match (&args.payload.payload_json, &args.payload.payload_file) {
        (Some(text), _) => parse_json(text.as_bytes(), "--payload-json")?,
        (None, Some(file)) => {
            parse_json(&read_input_file(ctx, file)?, &file.display().to_string())?
        }
        (None, None) => {
            return Err(input(
                "give --payload-json, --payload-file or --stdin-lines",
            ))
        }
    };
    let d = draft(&args.source, &args.kind, &json)?;
    let node = ctx.node()?;
    let stored = node.append_user(d)?;
    print_event(ctx, &stored);
    Ok(exit::OK)
}

/// The replica of peer `name` (through the daemon when one runs).
fn peer_chain(ctx: &Ctx, name: &str) -> Result<weft_node::daemon::peers::PeerChain> {
    let node = ctx.node()?;
    Ok(weft_node::daemon::peers::peer_chain(
        &node,
        ctx.daemon.as_deref(),
        name,
    )?)
}

/// For `--linearizable`: waits until this member has applied everything the cluster
/// committed before now. A node in no cluster is its own authority: nothing to wait for.
fn barrier(ctx: &Ctx, linearizable: bool) -> Result<()> {
    if !linearizable {
        return Ok(());
    }
    let node = ctx.node()?;
    match node.replicator() {
        Some(replicator) => Ok(replicator.read_barrier()?),
        None if node.chain().is_clustered() => Err(crate::ctx::input(
            "--linearizable on a cluster member needs its daemon (`weft node start`): it asks the leader",
        )),
        None => Ok(()),
    }
}

fn log(
    ctx: &Ctx,
    from: u64,
    limit: Option<u64>,
    peer: Option<&str>,
    kind: Option<&str>,
) -> Result<u8> {
    let node = ctx.node()?;
    let replica = peer.map(|name| peer_chain(ctx, name)).transpose()?;
    let chain = replica.as_ref().map_or(node.chain(), |r| r.chain());
    // A kind names itself; a source, every kind it writes (`coordinate.` + verb).
    let wanted = |e: &weft_kernel::Event| kind.is_none_or(|k| e.kind == k || e.source == k);
    let events = chain
        .events(from)
        .filter(|item| item.as_ref().map_or(true, |s| wanted(&s.event)))
        .take(limit.map(|l| l as usize).unwrap_or(usize::MAX));
    for item in events {
        let stored = item?;
        let written = if ctx.json {
            out::json_line(ctx, &stored.event.to_json(&stored.hash))
        } else {
            use std::io::Write;
            let e = &stored.event;
            writeln!(
                crate::out::Output::stdout(ctx),
                "{:>6}  {}  {:<22} {}  {}",
                e.seq,
                format_time(e.timestamp_ns),
                e.kind,
                out::short(&stored.hash.to_hex()),
                e.payload_json()
            )
        };
        if written.is_err() {
            break; // The reader went away (`| head`): that is not an error.
        }
    }
    Ok(exit::OK)
}

fn format_time(ns: u64) -> String {
    let secs = ns / 1_000_000_000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since the epoch (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn head(ctx: &Ctx) -> Result<u8> {
    let node = ctx.node()?;
    let chain = node.chain();
    let (seq, hash) = chain.head().ok_or(weft_kernel::ChainError::Empty)?;
    let signed = chain
        .latest_signed_head()
        .ok_or(weft_kernel::ChainError::Empty)?;
    if ctx.json {
        ctx.print_json(&serde_json::json!({
            "chain_id": signed.chain_id.to_hex(),
            "seq": seq,
            "hash": hash.to_hex(),
            "length": chain.len(),
            "merkle_root": chain.merkle_root().to_hex(),
            "signed_head": signed.to_json(),
        }));
    } else {
        say!(ctx; "{seq} {hash}");
        say!(ctx;
            "merkle root {}  signed by {}",
            signed.merkle_root,
            weft_kernel::keys::fingerprint(&signed.signer)
        );
    }
    Ok(exit::OK)
}

fn verify(ctx: &Ctx) -> Result<u8> {
    let node = ctx.node_with(OpenMode::Unchecked)?;
    let bar = out::progress(ctx, node.chain().len(), "verifying", ctx.json);
    let report = node.verify(&mut |seq| bar.set_position(seq + 1))?;
    bar.finish_and_clear();
    Ok(print_verify(
        ctx,
        &report.chain,
        Some((&report.artifacts, &report.references)),
    ))
}

/// `weft chain verify --peer NAME`: the replica, checked like a chain of our own
/// (its witnessed artifacts are the peer's files, so they are not re-hashed here).
fn verify_peer(ctx: &Ctx, name: &str) -> Result<u8> {
    let replica = peer_chain(ctx, name)?;
    let chain = replica.chain();
    let bar = out::progress(ctx, chain.len(), "verifying", ctx.json);
    let report = weft_kernel::verify::verify(chain, &mut |seq| bar.set_position(seq + 1))?;
    bar.finish_and_clear();
    Ok(print_verify(ctx, &report, None))
}

/// Prints a verification; `checks` are the node's own (artifacts re-hashed, references
/// to other chains checked against the chains it can read).
fn print_verify(
    ctx: &Ctx,
    c: &weft_kernel::verify::VerifyReport,
    checks: Option<(
        &weft_node::engine::ArtifactCheck,
        &weft_node::replicas::ReferenceCheck,
    )>,
) -> u8 {
    let (artifacts, references) = checks.unzip();
    if ctx.json {
        ctx.print_json(&serde_json::json!({
            "ok": c.ok(),
            "events": c.events,
            "heads": c.heads,
            "failures": c.failures,
            "failure_count": c.failure_count,
            "last_good_head": c.last_good_head,
            "external_refs": c.external_refs,
            "references": references,
            "merkle_root": c.root.map(|r| r.to_hex()),
            "artifacts": artifacts,
        }));
    } else {
        for f in &c.failures {
            say!(ctx; "FAIL {:>6}  {:?}  {}", f.seq, f.kind, f.detail);
        }
        if c.ok() {
            say!(ctx;
                "ok: {} events, {} signed heads verified",
                c.events,
                c.heads
            );
        } else {
            say!(ctx;
                "{} failure(s) in {} events; first at sequence {}",
                c.failure_count,
                c.events,
                c.failures.first().map(|f| f.seq).unwrap_or(0)
            );
        }
        if let Some(a) = artifacts.filter(|a| a.matched + a.mismatched > 0) {
            say!(ctx;
                "artifacts: {} match, {} differ, {} not present",
                a.matched,
                a.mismatched,
                a.unchecked
            );
        }
        if let Some(r) = references.filter(|r| r.matched + r.mismatched + r.unchecked > 0) {
            say!(ctx;
                "references to other chains: {} match their replicas, {} differ, {} not checkable here",
                r.matched,
                r.mismatched,
                r.unchecked
            );
        }
    }
    if c.ok() {
        exit::OK
    } else {
        exit::FAILED
    }
}

fn proof(ctx: &Ctx, seq: u64, output: Option<&Path>) -> Result<u8> {
    if let Some(path) = output {
        if path.exists() {
            return Err(input(format!(
                "{} exists; choose another file",
                path.display()
            )));
        }
    }
    let node = ctx.node()?;
    let doc = weft_kernel::proof::prove(node.chain(), seq)?;
    match output {
        Some(path) => {
            let text = serde_json::to_vec_pretty(&doc)?;
            std::fs::write(path, text).map_err(|e| NodeError::io(path, e))?;
            if !ctx.json {
                say!(ctx; "proof of event {seq} written to {}", path.display());
            }
        }
        None => ctx.print_json(&doc),
    }
    Ok(exit::OK)
}

fn verify_proof(ctx: &Ctx, file: &Path, signer: Option<&str>) -> Result<u8> {
    let doc = parse_json(&read_input_file(ctx, file)?, &file.display().to_string())?;
    let signer: Option<[u8; 32]> = match signer {
        Some(s) => Some(
            hex::decode(s)
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| {
                    input("--signer must be 64 hex characters (an Ed25519 public key)")
                })?,
        ),
        None => None,
    };
    match weft_kernel::proof::verify_proof(&doc, signer.as_ref()) {
        Ok(p) => {
            if ctx.json {
                ctx.print_json(&serde_json::json!({
                    "valid": true,
                    "seq": p.event.seq,
                    "kind": p.event.kind,
                    "hash": p.hash.to_hex(),
                    "chain_id": p.head.chain_id.to_hex(),
                    "tree_size": p.head.size(),
                    "signer": hex::encode(p.head.signer),
                    "signer_fingerprint": weft_kernel::keys::fingerprint(&p.head.signer),
                    "signer_checked": signer.is_some(),
                }));
            } else {
                say!(ctx;
                    "valid: event {} ({}) is in chain {} of {} events, head signed by {}",
                    p.event.seq,
                    p.event.kind,
                    p.head.chain_id,
                    p.head.size(),
                    weft_kernel::keys::fingerprint(&p.head.signer)
                );
            }
            if signer.is_none() {
                // Anyone can build a self-consistent proof under a key of their own.
                complain!(ctx;
                    "warning: only self-consistency was checked: the head is signed by the key it names, which may be anyone's; give --signer HEX to require the chain's key"
                );
            }
            Ok(exit::OK)
        }
        Err(e) => Ok(ctx.invalid("invalid", &e)),
    }
}

fn export(ctx: &Ctx, file: &Path) -> Result<u8> {
    if file.exists() {
        return Err(input(format!(
            "{} exists; export never overwrites a file",
            file.display()
        )));
    }
    let node = ctx.node()?;
    let key = node.key()?.clone();
    let partial = weft_kernel::atomic::with_suffix(file, ".partial");
    // Created new: a `FILE.partial` already there is another export's, never touched.
    let f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&partial)
        .map_err(|e| NodeError::io(&partial, e))?;
    let result = (|| -> Result<weft_kernel::segment::FileSummary> {
        let mut w = std::io::BufWriter::new(f);
        let bar = out::progress(ctx, node.chain().len(), "exporting", ctx.json);
        let summary = weft_kernel::segment::export(node.chain(), &key, &mut w, &mut |s| {
            bar.set_position(s + 1)
        })
        .map_err(NodeError::from)?;
        bar.finish_and_clear();
        let f = w
            .into_inner()
            .map_err(|e| NodeError::io(&partial, e.into_error()))?;
        f.sync_all().map_err(|e| NodeError::io(&partial, e))?;
        std::fs::rename(&partial, file).map_err(|e| NodeError::io(file, e))?;
        weft_kernel::atomic::sync_parent(file).map_err(|e| NodeError::io(file, e))?;
        Ok(summary)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    let summary = result?;
    print_summary(ctx, "exported", file, &summary);
    Ok(exit::OK)
}

fn print_summary(ctx: &Ctx, verb: &str, file: &Path, s: &weft_kernel::segment::FileSummary) {
    if ctx.json {
        ctx.print_json(&serde_json::json!({
            "file": file,
            "valid": true,
            "chain_id": s.chain_id.to_hex(),
            "events": s.events,
            "segments": s.segments,
            "head_hash": s.head.head_hash.to_hex(),
            "merkle_root": s.head.merkle_root.to_hex(),
            "signer_fingerprint": weft_kernel::keys::fingerprint(&s.head.signer),
        }));
    } else {
        say!(ctx;
            "{verb} {}: chain {}, {} events in {} segments, head {}",
            file.display(),
            s.chain_id,
            s.events,
            s.segments,
            s.head.head_hash
        );
    }
}

fn verify_file(ctx: &Ctx, file: &Path) -> Result<u8> {
    let f = std::fs::File::open(file).map_err(|e| input(format!("{}: {e}", file.display())))?;
    match weft_kernel::segment::verify_file(std::io::BufReader::new(f)) {
        Ok(s) => {
            print_summary(ctx, "valid", file, &s);
            Ok(exit::OK)
        }
        Err(e) => {
            if ctx.json {
                ctx.print_json(
                    &serde_json::json!({"file": file, "valid": false, "reason": e.to_string()}),
                );
            } else {
                say!(ctx; "invalid {}: {e}", file.display());
            }
            Ok(exit::FAILED)
        }
    }
}

fn import(ctx: &Ctx, file: &Path) -> Result<u8> {
    if !file.is_file() {
        return Err(input(format!("{}: no such file", file.display())));
    }
    let node = ctx.node_with(OpenMode::ForImport)?;
    let summary = node.import(file, &mut |_| {})?;
    print_summary(ctx, "imported", file, &summary);
    Ok(exit::OK)
}

fn repair(ctx: &Ctx, force: bool) -> Result<u8> {
    ctx.exclusive("chain repair")?;
    let node = ctx.node_with(OpenMode::Unchecked)?;
    let r = node.repair(force)?;
    if r.signed_heads_dropped > 0 {
        complain!(ctx;
            "warning: dropped {} signed head(s) peers may hold; those that do will flag this node as an equivocator once it signs new events at those sequences",
            r.signed_heads_dropped
        );
    }
    if ctx.json {
        ctx.print_json(&serde_json::to_value(&r)?);
    } else if r.dropped == 0 && !r.merkle_rebuilt {
        say!(ctx; "nothing to repair: no damage in {} events", r.kept);
        if r.findings > 0 {
            say!(ctx;
                "{} reference finding(s) remain: they are about what authentic events say, not damage (`weft chain verify` lists them)",
                r.findings
            );
        }
    } else {
        say!(ctx;
            "kept events 0..{} ({} events)",
            r.kept.saturating_sub(1),
            r.kept
        );
        if let Some(q) = &r.quarantine {
            say!(ctx; "moved {} event(s) to {}", r.dropped, q.display());
        }
        if r.merkle_rebuilt {
            say!(ctx; "rebuilt the Merkle subtrees from the events");
        }
        if let Some(seq) = r.repair_event {
            say!(ctx; "recorded chain.repair at {seq}");
        }
    }
    Ok(exit::OK)
}
