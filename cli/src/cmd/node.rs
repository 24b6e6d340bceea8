//! `weft init` and `weft status`.

use super::Ctx;
use crate::out;
use anyhow::Result;

pub fn init(ctx: &Ctx) -> Result<u8> {
    let report = weft_node::init::init(&ctx.dir)?;
    if ctx.json {
        out::json(&serde_json::json!({
            "root": report.root,
            "changed": !report.unchanged(),
            "created": report.created,
            "project": report.project,
            "chain_id": report.chain_id,
            "key_fingerprint": report.key_fingerprint,
        }));
    } else if report.unchanged() {
        println!(
            "already initialised: {} (nothing changed)",
            report.root.display()
        );
    } else {
        println!("initialised weft node in {}", report.root.display());
        for item in &report.created {
            println!("  created {item}");
        }
        println!(
            "  chain {}  key {}",
            report.chain_id, report.key_fingerprint
        );
        if !report.project.languages.is_empty() {
            println!("  languages: {}", report.project.languages.join(", "));
        }
    }
    Ok(crate::exit::OK)
}

pub fn status(ctx: &Ctx) -> Result<u8> {
    let node = ctx.node()?;
    let chain = node.chain();
    let genesis = chain.genesis().ok_or(weft_kernel::ChainError::Empty)?;
    let (seq, hash) = chain.head().ok_or(weft_kernel::ChainError::Empty)?;
    let tree_root = node.tree().root()?.map(|n| n.hash.to_hex());
    let config = node.config();
    let key = node.key().ok();
    let value = serde_json::json!({
        "root": node.layout().root,
        "project": config.project.name,
        "chain_id": genesis.chain_id.to_hex(),
        "length": chain.len(),
        "head": { "seq": seq, "hash": hash.to_hex() },
        "merkle_root": chain.merkle_root().to_hex(),
        "tree_root": tree_root,
        "key_fingerprint": key.map(|k| k.fingerprint()),
        "public_key": hex::encode(genesis.public_key),
        "config": {
            "languages": config.project.languages,
            "default_branch": config.project.default_branch,
            "threshold": config.governance.threshold,
            "environments": config.governance.environments.keys().collect::<Vec<_>>(),
            "rules": config.governance.rules.as_ref().map(|r| r.len()).unwrap_or(2),
            "peers": config.coordination.peers.len(),
        },
    });
    if ctx.json {
        out::json(&value);
    } else {
        println!("project      {}", config.project.name);
        println!("repository   {}", node.layout().root.display());
        println!("chain        {} ({} events)", genesis.chain_id, chain.len());
        println!("head         {seq} {}", hash);
        println!("merkle root  {}", chain.merkle_root());
        println!(
            "tree root    {}",
            tree_root.unwrap_or_else(|| "(none)".into())
        );
        println!(
            "key          {}",
            key.map(|k| k.fingerprint())
                .unwrap_or_else(|| "(missing: appends refused)".into())
        );
        println!(
            "governance   threshold {} · {} environment(s)",
            config.governance.threshold,
            config.governance.environments.len()
        );
    }
    Ok(crate::exit::OK)
}
