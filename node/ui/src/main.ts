// The page's router: `#/impact` (default), `#/mesh`, `#/chain[?from=N&kind=K]`,
// `#/chain/SEQ`, `#/code`. Leaving a view stops what it runs (polling, the graph).

import { init, isStatic } from "./api";
import { chainView, eventView } from "./views/chain";
import { codeView } from "./views/code";
import { impactView } from "./views/impact";
import { meshView } from "./views/mesh";

let leave: () => void = () => {};

async function route(): Promise<void> {
  leave();
  leave = () => {};
  const root = document.getElementById("view");
  if (!root) return;
  const [path, query = ""] = location.hash.replace(/^#/, "").split("?");
  const params = new URLSearchParams(query);
  const parts = path.split("/").filter(Boolean);
  const view = parts[0] ?? "impact";
  document.querySelectorAll("[data-nav]").forEach((a) => a.classList.toggle("active", a.getAttribute("data-nav") === view));
  if (view === "mesh") leave = await meshView(root);
  else if (view === "chain" && parts[1] !== undefined && /^\d+$/.test(parts[1])) leave = await eventView(root, Number(parts[1]));
  else if (view === "chain") {
    const from = params.get("from");
    leave = await chainView(root, from !== null && /^\d+$/.test(from) ? Number(from) : undefined, params.get("kind") ?? "");
  } else if (view === "code") leave = await codeView(root);
  else leave = await impactView(root);
}

init(location.search);
document.addEventListener("DOMContentLoaded", () => {
  const source = document.getElementById("source");
  if (source) source.textContent = isStatic() ? "static export" : "live";
  window.addEventListener("hashchange", () => void route());
  void route();
});
