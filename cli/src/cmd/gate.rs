//! `weft gate ...`.

use crate::args::{GateCommand, ResolveArgs};
use crate::ctx::{input, Ctx};
use crate::{exit, out};
use anyhow::Result;
use weft_kernel::cbor;
use weft_kernel::gate::{recheck, Decision, Effect};

pub fn run(ctx: &Ctx, command: GateCommand) -> Result<u8> {
    match command {
        GateCommand::Check {
            action,
            effect,
            env,
        } => check(ctx, &action, &effect, env.as_deref()),
        GateCommand::Pending => pending(ctx),
        GateCommand::Approve(args) => resolve(ctx, args, true),
        GateCommand::Reject(args) => resolve(ctx, args, false),
        GateCommand::Recheck { seq } => recheck_cmd(ctx, seq),
        GateCommand::Rules => rules(ctx),
    }
}

fn decision_exit(d: Decision) -> u8 {
    match d {
        Decision::Permit | Decision::Warn => exit::OK,
        Decision::Defer => exit::DEFERRED,
        Decision::Deny => exit::FAILED,
    }
}

fn check(ctx: &Ctx, action: &str, effect: &str, env: Option<&str>) -> Result<u8> {
    let node = ctx.node()?;
    let gate = node.gate()?;
    // A malformed effect or unknown environment is refused before anything is recorded:
    // it never permits, and it leaves the chain as it was.
    let effect =
        Effect::parse(effect, gate.rules().dimensions()).map_err(|e| input(e.to_string()))?;
    if let Some(e) = env {
        if gate.rules().threshold_for(Some(e)).is_none() {
            let known: Vec<&String> = gate.rules().environments().collect();
            return Err(input(format!(
                "environment `{e}` is not configured under [governance.environments] (known: {})",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            )));
        }
    }
    if action.is_empty() {
        return Err(input("--action must not be empty"));
    }
    drop(gate);
    let recorded = node.gate_decide(action, env, &effect)?;
    let ev = &recorded.evaluation;
    if ctx.json {
        let mut v = serde_json::to_value(&recorded)?;
        v["id"] = recorded.seq.into();
        ctx.print_json(&v);
    } else {
        say!(ctx;
            "{}: {} (magnitude {:.4}, threshold {}) recorded at sequence {}",
            ev.decision.name().to_uppercase(),
            action,
            ev.magnitude.unwrap_or(f64::NAN),
            ev.threshold,
            recorded.seq
        );
        for r in &ev.reasons {
            say!(ctx; "  {r}");
        }
        if ev.decision == Decision::Defer {
            say!(ctx;
                "  queued: `weft gate approve {}` or `weft gate reject {}`",
                recorded.seq,
                recorded.seq
            );
        }
    }
    Ok(decision_exit(ev.decision))
}

fn pending(ctx: &Ctx) -> Result<u8> {
    let node = ctx.node()?;
    let items = node.gate()?.pending()?;
    if ctx.json {
        ctx.print_json(&serde_json::Value::Array(
            items
                .iter()
                .map(|s| serde_json::json!({"id": s.event.seq, "decision": cbor::to_json(&s.event.payload)}))
                .collect(),
        ));
    } else if items.is_empty() {
        say!(ctx; "no pending decisions");
    } else {
        for s in &items {
            let p = cbor::to_json(&s.event.payload);
            say!(ctx;
                "{:>6}  {}  env={}  effect={}",
                s.event.seq,
                p["action"].as_str().unwrap_or("?"),
                p["environment"].as_str().unwrap_or("-"),
                p["effect"]
            );
        }
    }
    Ok(exit::OK)
}

fn resolve(ctx: &Ctx, args: ResolveArgs, approve: bool) -> Result<u8> {
    let node = ctx.node()?;
    let by = std::env::var("USER").ok();
    let stored = node.gate_resolve(args.id, approve, args.note.as_deref(), by.as_deref())?;
    if ctx.json {
        ctx.print_json(&stored.event.to_json(&stored.hash));
    } else {
        say!(ctx;
            "{} decision {} at sequence {}",
            if approve { "approved" } else { "rejected" },
            args.id,
            stored.event.seq
        );
    }
    Ok(exit::OK)
}

fn recheck_cmd(ctx: &Ctx, seq: u64) -> Result<u8> {
    let node = ctx.node()?;
    let r = recheck(node.chain(), seq)?;
    if ctx.json {
        ctx.print_json(&serde_json::to_value(&r)?);
    } else if r.agrees {
        say!(ctx;
            "agrees: decision {seq} re-derives to {} from rule set {}",
            r.rederived.decision,
            out::short(&r.rules_hash)
        );
    } else {
        say!(ctx;
            "DIFFERS: decision {seq} recorded {}, the recorded rules and inputs give {}",
            r.recorded,
            r.rederived.decision
        );
    }
    Ok(if r.agrees { exit::OK } else { exit::FAILED })
}

fn rules(ctx: &Ctx) -> Result<u8> {
    let node = ctx.node()?;
    let set = node.rule_set()?;
    if ctx.json {
        ctx.print_json(&serde_json::json!({
                "hash": set.hash().to_hex(),
                "dimensions": set.dimensions(),
                "threshold": set.threshold_for(None),
                "environments": set.environments().map(|e| (e.clone(), set.threshold_for(Some(e)))).collect::<std::collections::BTreeMap<_, _>>(),
                "rules": set.specs().collect::<Vec<_>>(),
            }),
        );
    } else {
        say!(ctx;
            "rule set {}  threshold {}",
            set.hash(),
            set.threshold_for(None).unwrap_or_default()
        );
        for e in set.environments() {
            say!(ctx;
                "  environment {e}: threshold {}",
                set.threshold_for(Some(e)).unwrap_or_default()
            );
        }
        for r in set.specs() {
            say!(ctx;
                "  {:<28} {:<13} action={} when=[{}]{}",
                r.id,
                r.severity.name(),
                r.action,
                r.when.join(", "),
                if r.environments.is_empty() {
                    String::new()
                } else {
                    format!(" env={}", r.environments.join(","))
                }
            );
        }
    }
    Ok(exit::OK)
}
