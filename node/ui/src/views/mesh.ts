// The mesh view: this node in the middle, its peers around it with head, replica
// length, lag, connection and flags, polled every 2 s while the view is open (one
// request at a time); a table beside the picture says the same in text.

import cytoscape from "cytoscape";
import { get, isStatic } from "../api";
import { el, failure, fill } from "../dom";
import type { ClusterStatus, NodeStatus, Peers, PeerStatus } from "../types";
import { fluid, graphStyle, rendered } from "./graph";

/** Milliseconds between refreshes. */
export const POLL_MS = 2000;

function row(p: PeerStatus): HTMLElement {
  const flags = el("td", {});
  for (const f of p.flags) {
    const text = f === "equivocation" ? el("a", { href: "#/chain?kind=mesh" }, "equivocation (evidence)") : f;
    flags.append(text, " ");
  }
  return el(
    "tr",
    { "data-peer": p.name },
    el("td", {}, p.name),
    el("td", { "data-field": "connection", class: p.connected ? "ok" : "bad" }, p.connected ? "connected" : "not connected"),
    el("td", {}, p.head ? String(p.head.seq) : "-"),
    el("td", {}, String(p.replica_length)),
    el("td", {}, String(p.lag)),
    el("td", {}, p.addr ?? "-"),
    flags,
  );
}

type Member = NonNullable<ClusterStatus["members"]>[number];

function memberRow(m: Member): HTMLElement {
  return el(
    "tr",
    { "data-member": m.name },
    el("td", {}, m.name),
    el("td", { "data-field": "role" }, m.role),
    el("td", {}, m.matched === null ? "-" : String(m.matched)),
    el("td", {}, m.lag === null ? "-" : String(m.lag)),
    el("td", {}, m.addr),
  );
}

/** The cluster's members on a small ring to the left of this node (a member itself). */
function memberElements(members: Member[]): cytoscape.ElementDefinition[] {
  return members.flatMap((m, i) => {
    const angle = (2 * Math.PI * i) / members.length;
    return [
      {
        data: { id: `m${i}`, label: `${m.name} (${m.role}${m.lag ? `, lag ${m.lag}` : ""})` },
        position: { x: -420 + 90 * Math.cos(angle), y: 90 * Math.sin(angle) },
        classes: m.role === "leader" ? "hotspot" : "additive",
      },
      { data: { id: `me${i}`, source: `m${i}`, target: "self" }, classes: "internal" },
    ];
  });
}

function elements(status: NodeStatus, peers: PeerStatus[]): cytoscape.ElementDefinition[] {
  const radius = Math.max(160, peers.length * 18);
  const out: cytoscape.ElementDefinition[] = [
    { data: { id: "self", label: `${status.project || "this node"} (${status.length} events)`, kind: "peer" }, position: { x: 0, y: 0 } },
  ];
  peers.forEach((p, i) => {
    const angle = (2 * Math.PI * i) / Math.max(1, peers.length);
    const label = `${p.name}: head ${p.head?.seq ?? "-"}, replica ${p.replica_length}, lag ${p.lag}${p.flags.length ? ` [${p.flags.join(",")}]` : ""}`;
    out.push({
      data: { id: `n${i}`, label },
      position: { x: radius * Math.cos(angle), y: radius * Math.sin(angle) },
      classes: p.flags.length ? "breaking" : p.connected ? "additive" : "held",
    });
    out.push({ data: { id: `e${i}`, source: "self", target: `n${i}` }, classes: p.connected ? "additive" : "internal" });
  });
  return out;
}

/** Renders the view into `root`; the returned function stops its polling. */
export async function meshView(root: HTMLElement): Promise<() => void> {
  const graph = el("div", { class: "graph", id: "mesh-graph" });
  const table = el("tbody", {});
  const note = el("p", { class: "muted" });
  const members = el("tbody", {});
  const cluster = el("div", {});
  fill(
    root,
    el("h2", {}, "Mesh"),
    note,
    el("div", { class: "layout" }, graph, el("div", { class: "panel" }, el("table", {}, el("thead", {}, el("tr", {}, ...["peer", "connection", "head", "replica", "lag", "address", "flags"].map((h) => el("th", {}, h)))), table), cluster)),
  );
  const cy = cytoscape({ container: graph, style: graphStyle(), layout: { name: "preset" }, ...fluid });
  let stopped = false;
  let first = true;
  const refresh = async (): Promise<void> => {
    try {
      const [status, peers, clusterStatus] = await Promise.all([
        get<NodeStatus>("/api/status"),
        get<Peers>("/api/peers"),
        get<ClusterStatus>("/api/cluster").catch(() => null),
      ]);
      if (stopped) return;
      fill(table, ...peers.peers.map(row));
      const list = clusterStatus?.members ?? [];
      fill(members, ...list.map(memberRow));
      fill(
        cluster,
        list.length
          ? el("div", {}, el("h3", {}, `Cluster (${clusterStatus?.state ?? "?"}, term ${clusterStatus?.term ?? "?"})`), el("table", {}, el("thead", {}, el("tr", {}, ...["member", "role", "matched", "lag", "address"].map((h) => el("th", {}, h)))), members))
          : null,
      );
      note.textContent = peers.daemon
        ? `${peers.peers.length} peer(s); refreshed ${new Date().toLocaleTimeString()}`
        : "no daemon runs for this node: connection state unknown (`weft node start` joins the mesh)";
      cy.elements().remove();
      cy.add([...elements(status, peers.peers), ...memberElements(list)]);
      cy.fit(undefined, 40);
      if (first) {
        rendered(cy);
        first = false;
      }
    } catch (e) {
      if (!stopped) fill(note, failure((e as Error).message));
    }
  };
  const loop = async (): Promise<void> => {
    while (!stopped) {
      await refresh();
      if (isStatic()) return;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  };
  void loop();
  return () => {
    stopped = true;
    cy.destroy();
  };
}
