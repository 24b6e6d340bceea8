// The chain view: a paged timeline of events (newest page first) with a kind filter,
// and an event's page with its payload, hash, the signed head covering it and its
// inclusion proof verified here, in the browser (verify.ts).

import { chainPath, get } from "../api";
import { el, failure, fill } from "../dom";
import type { ChainEvent, NodeStatus } from "../types";
import { type Proof, verifyProof } from "../verify";

/** Events per page. */
export const PAGE = 50;

/** The first sequence of the page holding the newest event of a chain of `length`. */
export function lastPageStart(length: number): number {
  return Math.max(0, Math.floor((length - 1) / PAGE) * PAGE);
}

function time(ns: string): string {
  const ms = Number(BigInt(ns) / 1_000_000n);
  return new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

/** The timeline, from `from` (the newest page when undefined), filtered by `kind`. */
export async function chainView(root: HTMLElement, from: number | undefined, kind: string): Promise<() => void> {
  fill(root, el("p", { class: "muted" }, "loading the chain…"));
  try {
    const status = await get<NodeStatus>("/api/status");
    const start = from ?? (kind ? 0 : lastPageStart(status.length));
    const events = await get<ChainEvent[]>(chainPath(start, PAGE, kind || undefined));
    const filter = el("input", { type: "text", value: kind, placeholder: "kind or source (coordinate.impact)", "data-kind-filter": "" });
    filter.addEventListener("change", () => {
      location.hash = `#/chain?kind=${encodeURIComponent(filter.value.trim())}`;
    });
    const nav = (label: string, to: number, enabled: boolean): HTMLElement => {
      const b = el("button", enabled ? {} : { disabled: "" }, label);
      b.addEventListener("click", () => {
        location.hash = `#/chain?from=${to}${kind ? `&kind=${encodeURIComponent(kind)}` : ""}`;
      });
      return b;
    };
    const body = el("tbody", {});
    for (const e of [...events].reverse()) {
      body.append(
        el("tr", { "data-seq": String(e.seq) }, el("td", {}, el("a", { href: `#/chain/${e.seq}` }, String(e.seq))), el("td", {}, e.kind), el("td", {}, time(e.timestamp_ns)), el("td", {}, el("code", {}, e.hash.slice(0, 16)))),
      );
    }
    fill(
      root,
      el("h2", {}, `Chain of ${status.project || "this node"} (${status.length} events)`),
      el("div", { class: "pager" }, nav("older", Math.max(0, start - PAGE), start > 0), nav("newer", start + PAGE, !kind && start + PAGE < status.length), filter),
      events.length ? el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "seq"), el("th", {}, "kind"), el("th", {}, "time"), el("th", {}, "hash"))), body) : el("p", { class: "muted" }, "no events here"),
    );
  } catch (e) {
    fill(root, failure((e as Error).message));
  }
  return () => {};
}

/** One event's page. */
export async function eventView(root: HTMLElement, seq: number): Promise<() => void> {
  fill(root, el("p", { class: "muted" }, `loading event ${seq}…`));
  let proof: Proof;
  try {
    proof = await get<Proof>(`/api/proof/${seq}`);
  } catch (e) {
    fill(root, el("h2", {}, `Event ${seq}`), failure((e as Error).message));
    return () => {};
  }
  const verdict = verifyProof(proof);
  const status = verdict.ok
    ? el("p", { "data-proof-status": "verified", class: "ok" }, "verified")
    : el("p", { "data-proof-status": "failed", class: "bad" }, `failed: ${verdict.reason}`);
  const head = proof.signed_head;
  fill(
    root,
    el("h2", {}, `Event ${seq}: ${(proof.event as unknown as ChainEvent).kind ?? ""}`),
    el("h3", {}, "Inclusion proof, checked in this page"),
    status,
    verdict.ok && verdict.note ? el("p", { class: "muted" }, verdict.note) : null,
    el("p", { class: "muted" }, "SHAKE-256 and Ed25519 from @noble, computed here: the event's bytes hash to its event hash, the audit path leads to the signed head's Merkle root, and the head's signature holds."),
    el("table", {}, el("tbody", {}, ...[
      ["event hash", proof.event_hash],
      ["leaf", `${proof.leaf_index} of ${proof.tree_size}`],
      ["signed head", `seq ${head.seq}, hash ${head.head_hash}`],
      ["merkle root", head.merkle_root],
      ["signer", head.signer],
      ["audit path", proof.audit_path.join(" ")],
    ].map(([k, v]) => el("tr", {}, el("th", {}, k), el("td", {}, el("code", {}, v)))))),
    el("h3", {}, "Event"),
    el("pre", { "data-payload": "" }, JSON.stringify(proof.event, null, 2)),
    el("p", {}, el("a", { href: "#/chain" }, "back to the chain")),
  );
  return () => {};
}
