// The code view: the module graph of `weft modules` — units sized by lines, hotspots
// (the god-file ranking) highlighted, import cycles' edges in red and listed.

import cytoscape from "cytoscape";
import { get } from "../api";
import { el, failure, fill } from "../dom";
import type { ModuleGraph } from "../types";
import { fluid, graphStyle, rendered } from "./graph";

/** Renders the view into `root`. */
export async function codeView(root: HTMLElement): Promise<() => void> {
  fill(root, el("p", { class: "muted" }, "loading the module graph…"));
  let graph: ModuleGraph;
  try {
    graph = await get<ModuleGraph>("/api/modules");
  } catch (e) {
    fill(root, failure((e as Error).message));
    return () => {};
  }
  const inCycle = new Set<string>();
  const cycleOf = new Map<string, number>();
  graph.cycles.forEach((c, i) => c.forEach((m) => { inCycle.add(m); cycleOf.set(m, i); }));
  const max = Math.max(1, ...graph.modules.map((m) => m.lines));
  const elements: cytoscape.ElementDefinition[] = [
    ...graph.modules.map((m) => ({
      data: { id: m.id, label: m.id, size: 12 + 36 * Math.sqrt(m.lines / max), fan_in: m.fan_in },
      classes: m.hotspot ? "hotspot" : "",
    })),
    ...graph.edges.map((e, i) => ({
      data: { id: `e${i}`, source: e.from, target: e.to },
      classes: inCycle.has(e.from) && cycleOf.get(e.from) === cycleOf.get(e.to) ? "cycle" : "",
    })),
  ];
  const box = el("div", { class: "graph", id: "code-graph" });
  const cycles = el("ul", {});
  graph.cycles.forEach((c, i) => cycles.append(el("li", { "data-cycle": String(i) }, c.join(" → "))));
  const hot = el("ul", {});
  const picked = el("div", {}, el("p", { class: "muted" }, "click a module to see its figures"));
  graph.modules.filter((m) => m.hotspot).sort((a, b) => b.score - a.score).forEach((m) =>
    hot.append(el("li", { "data-hotspot": m.id }, `${m.id}: ${m.lines} lines, ${m.fan_in} importers, ${m.churn} commits`)),
  );
  fill(
    root,
    el("h2", {}, `Modules (${graph.modules.length}, ${graph.edges.length} imports)`),
    graph.truncated ? el("p", { class: "error" }, "the import graph was cut at its bound: some imports are missing") : null,
    el("div", { class: "layout" }, box, el("div", { class: "panel" }, el("h3", {}, `Import cycles (${graph.cycles.length})`), cycles, el("h3", {}, "Hotspots"), hot, el("h3", {}, "Module"), picked)),
  );
  const cy = cytoscape({
    container: box,
    elements,
    style: [...graphStyle(), { selector: "node", style: { width: "data(size)", height: "data(size)" } }],
    // A force layout for a small graph; a large one in rings by fan-in (the most imported
    // modules in the middle), which is linear in its size.
    layout: (elements.length > 400
      ? { name: "concentric", concentric: (n: cytoscape.NodeSingular) => n.data("fan_in"), levelWidth: () => 3, minNodeSpacing: 4, animate: false }
      : { name: "cose", animate: false }) as cytoscape.LayoutOptions,
    ...fluid,
  });
  cy.on("tap", "node", (evt) => {
    const m = graph.modules.find((x) => x.id === evt.target.id());
    if (!m) return;
    const importers = graph.edges.filter((e) => e.to === m.id).map((e) => e.from);
    fill(picked, el("p", { "data-module": m.id }, el("strong", {}, m.id), ` — ${m.files} file(s), ${m.lines} lines, ${m.fan_in} importer(s), imports ${m.fan_out}, ${m.churn} commits${m.hotspot ? `, hotspot (score ${m.score.toFixed(2)})` : ""}`), el("p", { class: "muted" }, importers.length ? `imported by ${importers.join(", ")}` : "imported by no other module"));
  });
  rendered(cy);
  return () => cy.destroy();
}
