// An impact report as graph elements in columns: this project's changed symbols, the
// peers, their files, and each use (file and line), left to right; edges from a peer to
// its files and from a file to its uses, and from each changed symbol to the uses of
// it, coloured by the use's class. Positions are computed here (a preset layout), so
// 5 peers × 1,000 uses lay out at once.

import type { ImpactReport } from "./types";

export interface Element {
  group: "nodes" | "edges";
  data: Record<string, string | number | boolean>;
  position?: { x: number; y: number };
  classes?: string;
}

/** Above this many uses in all, uses are not drawn one by one: each changed symbol gets
 * one edge to each peer using it (coloured by the worst class of those uses), each file
 * its count, and a click on a file lists its uses — the graph stays small enough to
 * draw at once on a slow machine. */
export const MAX_USE_NODES = 600;

const rank: Record<string, number> = { breaking: 0, undetermined: 1, additive: 2, internal: 3 };

/** Horizontal distance between columns, vertical between rows. */
export const COLUMN = 320;
export const ROW = 34;

/** The elements of `report`'s graph. */
export function impactElements(report: ImpactReport, maxUseNodes = MAX_USE_NODES): Element[] {
  const out: Element[] = [];
  const total = report.peers.reduce((n, p) => n + p.files.reduce((m, f) => m + f.uses.length, 0), 0);
  const perUse = total <= maxUseNodes;
  const symbols = new Map<string, string>();
  const rows = [0, 0, 0, 0];
  const place = (column: number): { x: number; y: number } => ({
    x: column * COLUMN,
    y: rows[column]++ * ROW,
  });
  const symbolNode = (name: string): string => {
    let id = symbols.get(name);
    if (id === undefined) {
      id = `s${symbols.size}`;
      symbols.set(name, id);
      out.push({ group: "nodes", data: { id, label: name, kind: "symbol" }, position: place(0) });
    }
    return id;
  };
  report.peers
    .filter((p) => p.state !== "not-dependent")
    .forEach((peer, p) => {
      const pid = `p${p}`;
      const held = peer.state === "pinned" || peer.state === "unreachable";
      const label = held ? `${peer.name} (${peer.state})` : peer.name;
      out.push({
        group: "nodes",
        data: { id: pid, label, kind: "peer", peer: peer.name, state: peer.state },
        position: place(1),
        classes: held ? "held" : peer.breaking_uses > 0 ? "breaking" : "",
      });
      // Aggregated: the worst class of each changed symbol this peer uses.
      const worst = new Map<string, string>();
      peer.files.forEach((file, f) => {
        const fid = `${pid}f${f}`;
        out.push({
          group: "nodes",
          data: { id: fid, label: perUse ? file.path : `${file.path} (${file.uses.length} uses)`, kind: "file", peer: peer.name, file: f },
          position: place(2),
          classes: held ? "held" : "",
        });
        out.push({ group: "edges", data: { id: `${fid}e`, source: pid, target: fid } });
        if (!perUse) {
          for (const use of file.uses) {
            const was = worst.get(use.symbol);
            if (was === undefined || rank[use.class] < rank[was]) worst.set(use.symbol, use.class);
          }
          return;
        }
        file.uses.forEach((use, u) => {
          const uid = `${fid}u${u}`;
          out.push({
            group: "nodes",
            data: {
              id: uid,
              label: `${file.path}:${use.line} ${use.symbol}`,
              kind: "use",
              peer: peer.name,
              file: f,
              use: u,
              class: use.class,
            },
            position: place(3),
            classes: `${use.class}${use.confirmed ? " confirmed" : ""}`,
          });
          out.push({ group: "edges", data: { id: `${uid}e`, source: fid, target: uid } });
          out.push({
            group: "edges",
            data: { id: `${uid}s`, source: symbolNode(use.symbol), target: uid, class: use.class },
            classes: use.class,
          });
        });
      });
      for (const [symbol, cls] of worst) {
        const sid = symbolNode(symbol);
        out.push({ group: "edges", data: { id: `${pid}${sid}`, source: sid, target: pid, class: cls }, classes: cls });
      }
    });
  return out;
}
