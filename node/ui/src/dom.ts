// Building the page's elements. Text from answers (peer names, paths, code lines) is
// only ever set as text, never parsed as HTML.

type Attrs = Record<string, string | undefined>;
type Child = Node | string | null | undefined | false;

/** An element with attributes (undefined ones left out) and children (strings as text). */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== undefined) node.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    node.append(typeof c === "string" ? document.createTextNode(c) : c);
  }
  return node;
}

/** Replaces the children of `parent`. */
export function fill(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    parent.append(typeof c === "string" ? document.createTextNode(c) : c);
  }
}

/** An error line. */
export function failure(message: string): HTMLElement {
  return el("p", { class: "error", "data-error": "" }, message);
}
