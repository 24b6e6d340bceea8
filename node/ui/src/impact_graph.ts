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

/** Horizontal distance between columns, vertical between rows. */
export const COLUMN = 320;
export const ROW = 34;

/** The elements of `report`'s graph. */
export function impactElements(report: ImpactReport): Element[] {
  const out: Element[] = [];
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
      peer.files.forEach((file, f) => {
        const fid = `${pid}f${f}`;
        out.push({
          group: "nodes",
          data: { id: fid, label: file.path, kind: "file", peer: peer.name },
          position: place(2),
          classes: held ? "held" : "",
        });
        out.push({ group: "edges", data: { id: `${fid}e`, source: pid, target: fid } });
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
    });
  return out;
}
