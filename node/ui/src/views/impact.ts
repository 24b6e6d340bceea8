// The impact view: the newest recorded impact report as a graph (impact_graph.ts), a
// list of peers with their files and uses, the release gate's state and the
// acknowledgements beside it, and, for a clicked use, its code line and the rule that
// classified the change.

import cytoscape from "cytoscape";
import { get, impactPath } from "../api";
import { el, failure, fill } from "../dom";
import { impactElements } from "../impact_graph";
import type { AffectedUse, ImpactReport, PeerImpact, RecordedImpact, ReleaseStatus } from "../types";
import { fluid, graphStyle, rendered } from "./graph";

function usePanel(report: ImpactReport, peer: PeerImpact, path: string, use: AffectedUse): HTMLElement {
  const change = report.api.changes.find((c) => c.name === use.symbol || c.qualified === use.symbol);
  return el(
    "div",
    { "data-selected-use": `${path}:${use.line}` },
    el("h3", {}, `${peer.name}: ${path}:${use.line}`),
    el("pre", {}, use.text),
    el("p", {}, "in ", el("code", {}, use.enclosing ?? "(top level)"), ` — ${use.via} of `, el("code", {}, use.symbol)),
    el("p", { class: `class-${use.class}` }, `${use.class} (${use.change})`, use.confirmed ? " — confirmed by the build check" : ""),
    change ? el("p", {}, "rule ", el("code", { "data-rule": change.rule }, change.rule), change.note ? ` — ${change.note}` : "") : null,
    el("p", { class: "muted" }, `evidence: ${use.evidence}`),
  );
}

/** A file's uses as links (a graph too large to draw each use shows them here). */
function fileUses(peer: PeerImpact, path: string, uses: AffectedUse[], select: (peer: PeerImpact, path: string, use: AffectedUse) => void): HTMLElement {
  const list = el("ul", {});
  for (const use of uses) {
    const link = el("a", { href: "#/impact", class: `class-${use.class}` }, `${path}:${use.line} ${use.symbol}`);
    link.addEventListener("click", (e) => {
      e.preventDefault();
      select(peer, path, use);
    });
    list.append(el("li", {}, link));
  }
  return el("div", {}, el("h3", {}, `${peer.name}: ${path}`), list);
}

function peerList(report: ImpactReport, select: (peer: PeerImpact, path: string, use: AffectedUse) => void): HTMLElement {
  const list = el("ul", { class: "peers-list" });
  for (const peer of report.peers) {
    const files = el("ul", {});
    for (const file of peer.files) {
      for (const use of file.uses) {
        const link = el("a", { href: "#/impact", "data-use": `${file.path}:${use.line}`, class: `class-${use.class}` }, `${file.path}:${use.line}`);
        link.addEventListener("click", (e) => {
          e.preventDefault();
          select(peer, file.path, use);
        });
        files.append(el("li", {}, link, ` ${use.symbol} (${use.class})`));
      }
    }
    const note = peer.state === "unreachable" ? ` — unreachable: ${peer.error ?? ""}` : peer.state === "pinned" ? " — pinned" : "";
    list.append(
      el("li", { "data-peer": peer.name, "data-state": peer.state }, el("strong", {}, peer.name), ` ${peer.state}, ${peer.severity}, ${peer.breaking_uses} breaking use(s)${note}`, files),
    );
  }
  return list;
}

function gate(report: ImpactReport, status: ReleaseStatus | null): HTMLElement {
  if (!status) return el("p", { class: "muted" }, "release state unavailable");
  const release = status.releases.find((r) => r.version === report.version) ?? status.releases[status.releases.length - 1];
  if (!release) return el("p", { class: "muted" }, "no release recorded yet (`weft coordinate release VERSION`)");
  const acks = el("ul", {});
  for (const p of release.peers) acks.append(el("li", {}, `${p.name}: ${p.acknowledged ? `acknowledged (its event ${p.ack_seq})` : "pending"}`));
  return el("div", { "data-gate": release.state }, el("p", {}, `release ${release.version}: `, el("strong", {}, release.state), ` (event ${release.seq})`), acks);
}

/** Renders the view into `root`. */
export async function impactView(root: HTMLElement): Promise<() => void> {
  fill(root, el("p", { class: "muted" }, "loading the impact report…"));
  let recorded: RecordedImpact;
  try {
    recorded = await get<RecordedImpact>(impactPath());
  } catch (e) {
    fill(root, failure((e as Error).message));
    return () => {};
  }
  const status = await get<ReleaseStatus>("/api/release").catch(() => null);
  const report = recorded.report;
  const graph = el("div", { class: "graph", id: "impact-graph" });
  const detail = el("div", {}, el("p", { class: "muted" }, "click a use to see its line"));
  const select = (peer: PeerImpact, path: string, use: AffectedUse): void => fill(detail, usePanel(report, peer, path, use));
  const s = report.summary;
  fill(
    root,
    el("h2", {}, `Impact of ${report.project}${report.version ? ` ${report.version}` : ""}`),
    el("p", { class: "muted" }, `recorded at event ${recorded.seq} (${recorded.path}); ${s.affected ?? 0} affected peer(s), ${s.breaking_peers ?? 0} breaking, ${s.breaking_uses ?? 0} breaking use(s), ${s.pinned ?? 0} pinned, ${s.unreachable ?? 0} unreachable`),
    el("div", { class: "layout" }, graph, el("div", { class: "panel" }, el("h3", {}, "Gate"), gate(report, status), el("h3", {}, "Use"), detail)),
    el("h3", {}, "Peers"),
    peerList(report, select),
  );
  const cy = cytoscape({ container: graph, elements: impactElements(report), style: graphStyle(), layout: { name: "preset" }, ...fluid });
  cy.fit(undefined, 20);
  cy.on("tap", "node[kind = 'use']", (evt) => {
    const d = evt.target.data();
    const peer = report.peers.find((p) => p.name === d.peer);
    const file = peer?.files[d.file as number];
    const use = file?.uses[d.use as number];
    if (peer && file && use) select(peer, file.path, use);
  });
  cy.on("tap", "node[kind = 'file']", (evt) => {
    const d = evt.target.data();
    const peer = report.peers.find((p) => p.name === d.peer);
    const file = peer?.files[d.file as number];
    if (peer && file) fill(detail, fileUses(peer, file.path, file.uses, select));
  });
  rendered(cy);
  return () => cy.destroy();
}
