// What the graph views share: cytoscape's style (classes by use class, held peers
// dashed, hotspots and cycles) and the first-render mark the measurements read.

import type cytoscape from "cytoscape";

const colours: Record<string, string> = {
  breaking: "#d62728",
  undetermined: "#ff9f0e",
  additive: "#2ca02c",
  internal: "#7f7f7f",
};

/** The style sheet of every graph. */
export function graphStyle(): cytoscape.StylesheetJson {
  const byClass = Object.entries(colours).flatMap(([name, colour]) => [
    { selector: `node.${name}`, style: { "background-color": colour } },
    { selector: `edge.${name}`, style: { "line-color": colour, "target-arrow-color": colour } },
  ]);
  return [
    {
      selector: "node",
      style: {
        label: "data(label)",
        "font-size": 11,
        "text-valign": "center",
        "text-halign": "right",
        "text-margin-x": 6,
        // Labels too small to read are not drawn: a zoomed-out graph of thousands of
        // nodes renders at once.
        "min-zoomed-font-size": 7,
        width: 14,
        height: 14,
        "background-color": "#4a6fa5",
      },
    },
    { selector: "node[kind = 'peer']", style: { shape: "round-rectangle", width: 22, height: 22, "background-color": "#1f2933" } },
    { selector: "node[kind = 'file']", style: { shape: "rectangle", "background-color": "#9aa5b1" } },
    { selector: "node.held", style: { "border-style": "dashed", "border-width": 2, "border-color": "#333", "background-opacity": 0.4 } },
    { selector: "node.confirmed", style: { "border-width": 3, "border-color": "#000" } },
    { selector: "node.hotspot", style: { "background-color": "#ff7f0e" } },
    { selector: "edge", style: { width: 1.5, "line-color": "#c5ccd3", "curve-style": "straight", "target-arrow-shape": "triangle", "target-arrow-color": "#c5ccd3", "arrow-scale": 0.7 } },
    { selector: "edge.cycle", style: { "line-color": "#d62728", "target-arrow-color": "#d62728", width: 2.5 } },
    ...byClass,
  ];
}

/** Marks the view's first render (read by the browser tests' timing scenario). */
export function rendered(cy: cytoscape.Core): void {
  cy.ready(() => {
    requestAnimationFrame(() => {
      window.__weftRendered = performance.now();
    });
  });
}

/** Options that keep a large graph fluid (while panning or zooming, a texture of it is
 * moved instead of every element being redrawn) and a small one readable (fitting it
 * never zooms past 1.5×). */
export const fluid = { textureOnViewport: true, hideEdgesOnViewport: true, pixelRatio: 1, maxZoom: 1.5 } as const;
