//! `weft tree ...`.

use crate::args::TreeCommand;
use crate::ctx::{input, Ctx};
use crate::{exit, out};
use anyhow::Result;
use std::collections::BTreeMap;
use weft_kernel::tree::{self, Node};

pub fn run(ctx: &Ctx, command: TreeCommand) -> Result<u8> {
    match command {
        TreeCommand::Ls { path, recursive } => ls(ctx, &path, recursive),
        TreeCommand::Get { path } => get(ctx, &path),
        TreeCommand::Set { path, kind, meta } => set(ctx, &path, &kind, &meta),
        TreeCommand::Rm { path, recursive } => rm(ctx, &path, recursive),
        TreeCommand::Root => root(ctx),
        TreeCommand::Verify => verify(ctx),
    }
}

fn print_node_line(ctx: &Ctx, node: &Node) {
    let meta: Vec<String> = node.meta.iter().map(|(k, v)| format!("{k}={v}")).collect();
    say!(ctx;
        "{:<40} {:<12} {}  {}",
        node.path,
        node.kind,
        out::short(&node.hash.to_hex()),
        meta.join(" ")
    );
}

fn ls(ctx: &Ctx, path: &str, recursive: bool) -> Result<u8> {
    tree::validate_path(path).map_err(|e| input(e.to_string()))?;
    let node = ctx.node()?;
    let tree = node.tree();
    let shown: Vec<Node> = if recursive {
        tree.walk(path)?.into_iter().skip(1).collect()
    } else {
        let top = tree
            .get(path)?
            .ok_or_else(|| input(format!("no node at {path}")))?;
        let prefix = if top.path == "/" {
            String::new()
        } else {
            top.path.clone()
        };
        let mut children = Vec::with_capacity(top.children.len());
        for name in top.children.keys() {
            children.extend(tree.get(&format!("{prefix}/{name}"))?);
        }
        children
    };
    if ctx.json {
        ctx.print_json(&serde_json::Value::Array(
            shown.iter().map(Node::to_json).collect(),
        ));
    } else {
        shown.iter().for_each(|n| print_node_line(ctx, n));
    }
    Ok(exit::OK)
}

fn get(ctx: &Ctx, path: &str) -> Result<u8> {
    tree::validate_path(path).map_err(|e| input(e.to_string()))?;
    let node = ctx.node()?;
    let found = node
        .tree()
        .get(path)?
        .ok_or_else(|| input(format!("no node at {path}")))?;
    if ctx.json {
        ctx.print_json(&found.to_json());
    } else {
        say!(ctx; "path      {}", found.path);
        say!(ctx; "kind      {}", found.kind);
        say!(ctx; "hash      {}", found.hash);
        say!(ctx; "changed   at sequence {}", found.seq);
        for (k, v) in &found.meta {
            say!(ctx; "meta      {k}={v}");
        }
        for c in found.children.keys() {
            say!(ctx; "child     {c}");
        }
    }
    Ok(exit::OK)
}

fn parse_meta(items: &[String]) -> Result<BTreeMap<String, String>> {
    let mut meta = BTreeMap::new();
    for item in items {
        let (k, v) = item
            .split_once('=')
            .ok_or_else(|| input(format!("--meta `{item}`: expected KEY=VALUE")))?;
        if meta.insert(k.to_string(), v.to_string()).is_some() {
            return Err(input(format!("--meta `{k}` is given twice")));
        }
    }
    tree::validate_meta(&meta).map_err(|e| input(e.to_string()))?;
    Ok(meta)
}

fn print_mutation(
    ctx: &Ctx,
    what: &str,
    path: &str,
    stored: &weft_kernel::StoredEvent,
    root: Option<String>,
) {
    if ctx.json {
        ctx.print_json(&serde_json::json!({"path": path, "seq": stored.event.seq, "event_hash": stored.hash.to_hex(), "root": root}),
        );
    } else {
        say!(ctx;
            "{what} {path} at sequence {}; root {}",
            stored.event.seq,
            root.unwrap_or_default()
        );
    }
}

fn set(ctx: &Ctx, path: &str, kind: &str, meta: &[String]) -> Result<u8> {
    tree::validate_path(path).map_err(|e| input(e.to_string()))?;
    tree::validate_kind(kind).map_err(|e| input(e.to_string()))?;
    let meta = parse_meta(meta)?;
    let node = ctx.node()?;
    let stored = node.tree_set(path, kind, meta)?;
    let root = node.tree().root()?.map(|n| n.hash.to_hex());
    print_mutation(ctx, "set", path, &stored, root);
    Ok(exit::OK)
}

fn rm(ctx: &Ctx, path: &str, recursive: bool) -> Result<u8> {
    tree::validate_path(path).map_err(|e| input(e.to_string()))?;
    let node = ctx.node()?;
    let stored = node.tree_remove(path, recursive)?;
    let root = node.tree().root()?.map(|n| n.hash.to_hex());
    print_mutation(ctx, "removed", path, &stored, root);
    Ok(exit::OK)
}

fn root(ctx: &Ctx) -> Result<u8> {
    let node = ctx.node()?;
    let root = node
        .tree()
        .root()?
        .ok_or_else(|| input("the tree has no root yet"))?;
    if ctx.json {
        ctx.print_json(&serde_json::json!({"root": root.hash.to_hex(), "seq": root.seq}));
    } else {
        say!(ctx; "{}", root.hash);
    }
    Ok(exit::OK)
}

fn verify(ctx: &Ctx) -> Result<u8> {
    let node = ctx.node()?;
    let report = tree::verify_tree(&node.tree())?;
    let ok = report.problems.is_empty()
        && report.stored_root.as_deref() == Some(report.replayed_root.as_str());
    if ctx.json {
        let mut v = serde_json::to_value(&report)?;
        v["ok"] = ok.into();
        ctx.print_json(&v);
    } else {
        for p in &report.problems {
            say!(ctx; "FAIL {p}");
        }
        if ok {
            say!(ctx;
                "ok: {} tree events replayed; root {}",
                report.events,
                report.replayed_root
            );
        } else {
            say!(ctx;
                "tree does not match the chain: stored root {}, replayed root {}",
                report.stored_root.unwrap_or_default(),
                report.replayed_root
            );
        }
    }
    Ok(if ok { exit::OK } else { exit::FAILED })
}
