//! `weft witness add` and `weft lineage add`.

use crate::args::{LineageArgs, LineageCommand, WitnessArgs, WitnessCommand};
use crate::cmd::chain::print_event;
use crate::ctx::{input, parse_json, read_input_file, Ctx};
use crate::exit;
use anyhow::Result;
use weft_kernel::event::ChainId;
use weft_kernel::witness::{self, Derivation, EventRef};
use weft_kernel::{Chain, Hash, SignedHead};

fn local_ref(chain: &Chain, seq: u64) -> Result<EventRef> {
    let stored = chain.event(seq).map_err(|e| input(e.to_string()))?;
    Ok(EventRef {
        chain_id: stored.event.chain_id,
        seq,
        hash: stored.hash,
    })
}

pub fn witness(ctx: &Ctx, command: WitnessCommand) -> Result<u8> {
    let WitnessCommand::Add(args) = command;
    add_witness(ctx, args)
}

fn add_witness(ctx: &Ctx, args: WitnessArgs) -> Result<u8> {
    let head = match &args.head {
        Some(file) => {
            let json = parse_json(&read_input_file(ctx, file)?, &file.display().to_string())?;
            let doc = json.get("signed_head").unwrap_or(&json);
            let head = SignedHead::from_json(doc)
                .map_err(|e| input(format!("{}: {e}", file.display())))?;
            head.verify_signature()
                .map_err(|e| input(format!("{}: {e}; nothing recorded", file.display())))?;
            Some(head)
        }
        None => None,
    };
    if let Some(file) = &args.artifact {
        if !file.is_file() {
            return Err(input(format!("{}: no such file", file.display())));
        }
    }
    let node = ctx.node()?;
    let local = args
        .local
        .map(|seq| local_ref(node.chain(), seq))
        .transpose()?;
    let stored = match (head, &args.artifact) {
        (Some(head), _) => {
            let draft = witness::witness_head(&head, local.as_ref(), args.note.as_deref())
                .map_err(|e| input(e.to_string()))?;
            node.append(draft)?
        }
        (None, Some(file)) => {
            if local.is_some() || args.note.is_some() {
                return Err(input("--local and --note apply to --head witnesses; an artifact witness records name, hash, size and path"));
            }
            node.witness_artifact(file, args.name.as_deref())?
        }
        (None, None) => return Err(input("give --head FILE or --artifact FILE")),
    };
    print_event(ctx, &stored);
    Ok(exit::OK)
}

pub fn lineage(ctx: &Ctx, command: LineageCommand) -> Result<u8> {
    let LineageCommand::Add(args) = command;
    add_lineage(ctx, args)
}

fn add_lineage(ctx: &Ctx, args: LineageArgs) -> Result<u8> {
    let derivation = Derivation::parse(&args.derivation).ok_or_else(|| {
        input(format!(
            "--derivation `{}`: use clone, mutate, combine, derive or fork",
            args.derivation
        ))
    })?;
    if !args.parent_hashes.is_empty() && args.parent_hashes.len() != args.parents.len() {
        return Err(input("give one --parent-hash per --parent, or none"));
    }
    let hashes: Vec<Option<Hash>> = if args.parent_hashes.is_empty() {
        vec![None; args.parents.len()]
    } else {
        args.parent_hashes
            .iter()
            .map(|h| {
                Hash::from_hex(h)
                    .map(Some)
                    .map_err(|e| input(e.to_string()))
            })
            .collect::<Result<_>>()?
    };
    let node = ctx.node()?;
    let mut parents = Vec::new();
    for (spec, hash) in args.parents.iter().zip(hashes) {
        let parent = match spec.split_once(':') {
            None => {
                let seq: u64 = spec.parse().map_err(|_| {
                    input(format!("--parent `{spec}`: expected SEQ or CHAIN_ID:SEQ"))
                })?;
                let r = local_ref(node.chain(), seq)?;
                if let Some(h) = hash {
                    if h != r.hash {
                        return Err(input(format!(
                            "--parent-hash {h} is not the hash of event {seq} ({})",
                            r.hash
                        )));
                    }
                }
                r
            }
            Some((chain, seq)) => {
                let chain_id = ChainId::from_hex(chain).ok_or_else(|| {
                    input(format!(
                        "--parent `{spec}`: `{chain}` is not a chain id (32 hex characters)"
                    ))
                })?;
                let seq: u64 = seq.parse().map_err(|_| {
                    input(format!(
                        "--parent `{spec}`: `{seq}` is not a sequence number"
                    ))
                })?;
                if Some(chain_id) == node.chain().genesis().map(|g| g.chain_id) {
                    local_ref(node.chain(), seq)?
                } else {
                    EventRef {
                        chain_id,
                        seq,
                        hash: hash.ok_or_else(|| {
                            input(format!(
                                "--parent `{spec}` is on another chain: give its --parent-hash"
                            ))
                        })?,
                    }
                }
            }
        };
        parents.push(parent);
    }
    let draft = witness::lineage(&args.child, &parents, derivation, args.note.as_deref())
        .map_err(|e| input(e.to_string()))?;
    let stored = node.append(draft)?;
    print_event(ctx, &stored);
    Ok(exit::OK)
}
