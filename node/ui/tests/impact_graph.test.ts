// The impact graph's elements: one node per changed symbol, peer, file and use, in
// columns; held peers marked; uses coloured by class.

import assert from "node:assert/strict";
import { test } from "node:test";
import { COLUMN, impactElements } from "../src/impact_graph";
import type { ImpactReport } from "../src/types";

const use = (line: number, symbol: string, cls: "breaking" | "additive") => ({
  line, symbol, via: "call", change: "signature", class: cls, enclosing: "main", text: "f()", evidence: "static",
});

const report: ImpactReport = {
  project: "up",
  version: "1.1.0",
  api: { changes: [], head_commit: "abc" },
  summary: {},
  peers: [
    { name: "app", via: "path", state: "affected", severity: "breaking", files: [{ path: "src/main.rs", severity: "breaking", uses: [use(4, "f", "breaking"), use(9, "g", "additive")] }], uses_omitted: 0, breaking_uses: 1 },
    { name: "old", via: "path", state: "pinned", severity: "breaking", files: [{ path: "lib.rs", severity: "breaking", uses: [use(2, "f", "breaking")] }], uses_omitted: 0, breaking_uses: 1 },
    { name: "gone", via: "mesh", state: "unreachable", severity: "none", files: [], uses_omitted: 0, breaking_uses: 0 },
    { name: "other", via: "path", state: "not-dependent", severity: "none", files: [], uses_omitted: 0, breaking_uses: 0 },
  ],
};

test("symbols, peers, files and uses stand in their columns", () => {
  const nodes = impactElements(report).filter((e) => e.group === "nodes");
  const column = (kind: string) => nodes.filter((n) => n.data.kind === kind).map((n) => n.position!.x);
  assert.deepEqual(column("symbol"), [0, 0]);
  assert.deepEqual(column("peer"), [COLUMN, COLUMN, COLUMN]);
  assert.deepEqual(column("file"), [2 * COLUMN, 2 * COLUMN]);
  assert.deepEqual(column("use"), [3 * COLUMN, 3 * COLUMN, 3 * COLUMN]);
  const labels = nodes.filter((n) => n.data.kind === "peer").map((n) => n.data.label);
  assert.deepEqual(labels, ["app", "old (pinned)", "gone (unreachable)"]);
  assert.equal(nodes.find((n) => n.data.label === "old (pinned)")?.classes, "held");
});

test("each use is reached from its file and from its symbol, coloured by class", () => {
  const edges = impactElements(report).filter((e) => e.group === "edges");
  const fromSymbols = edges.filter((e) => String(e.data.source).startsWith("s"));
  assert.equal(fromSymbols.length, 3);
  assert.deepEqual(fromSymbols.map((e) => e.classes), ["breaking", "additive", "breaking"]);
  const ids = new Set(impactElements(report).map((e) => e.data.id));
  assert.equal(ids.size, impactElements(report).length, "ids are unique");
});

test("past the bound each symbol has one edge to each peer using it, of the worst class", () => {
  const elements = impactElements(report, 2);
  assert.equal(elements.filter((e) => e.data.kind === "use").length, 0);
  const fromSymbols = elements.filter((e) => e.group === "edges" && String(e.data.source).startsWith("s"));
  assert.deepEqual(fromSymbols.map((e) => [e.data.source, e.data.target, e.classes]), [["s0", "p0", "breaking"], ["s1", "p0", "additive"], ["s0", "p1", "breaking"]]);
  assert.equal(elements.find((e) => e.data.id === "p0f0")?.data.label, "src/main.rs (2 uses)");
});
