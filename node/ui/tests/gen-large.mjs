// Writes a static site (the built page plus a data.js) with a large organisation for
// the render measurements of docs/performance.md: an impact over PEERS peers × USES
// uses each, and a mesh of NODES peers, in the shapes weft's answers have.
//
//   node gen-large.mjs OUT_DIR [PEERS=5] [USES=1000] [NODES=50]
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";

const [out, peers = 5, uses = 1000, nodes = 50] = process.argv.slice(2);
const dist = new URL("../dist/", import.meta.url).pathname;
mkdirSync(out, { recursive: true });
for (const f of ["index.html", "app.js", "app.css"]) copyFileSync(dist + f, `${out}/${f}`);

const classes = ["breaking", "undetermined", "additive", "internal"];
const symbols = Array.from({ length: 40 }, (_, i) => `sym${i}`);
const report = {
  schema: "weft.impact/1",
  project: "upstream",
  version: "2.0.0",
  api: { changes: symbols.map((name) => ({ change: "signature", class: "breaking", path: "src/lib.rs", qualified: name, name, owner: null, rule: "rust/fn-change-arity", note: null })), head_commit: "0".repeat(40) },
  summary: { affected: Number(peers), breaking_peers: Number(peers), breaking_uses: 0, pinned: 0, unreachable: 0 },
  peers: Array.from({ length: Number(peers) }, (_, p) => {
    const files = Array.from({ length: 50 }, (_, f) => ({
      path: `src/module_${f}.rs`,
      severity: "breaking",
      uses: Array.from({ length: Number(uses) / 50 }, (_, u) => ({
        line: u + 1, symbol: symbols[(u + f) % symbols.length], via: "call", change: "signature",
        class: classes[(u + p) % classes.length], enclosing: `fn_${u}`, text: `    ${symbols[u % symbols.length]}(x);`, evidence: "static",
      })),
    }));
    return { name: `peer-${p}`, via: "path", state: "affected", severity: "breaking", files, uses_omitted: 0, breaking_uses: Number(uses) / 4 };
  }),
};
const mesh = {
  daemon: true,
  notices: [],
  peers: Array.from({ length: Number(nodes) }, (_, i) => ({
    name: `node-${i}`, peer_id: null, addr: `/ip4/127.0.0.1/tcp/${4000 + i}`, connected: i % 7 !== 0,
    head: { seq: 1000 + i, hash: "ab".repeat(32) }, replica_length: 1000 + i - (i % 3), lag: i % 3, flags: i === 3 ? ["equivocation"] : [], last_error: null, project: `p${i}`,
  })),
};
const status = { project: "upstream", chain_id: "00".repeat(16), length: 1, head: { seq: 0, hash: "00".repeat(32) }, daemon: true };
const data = {
  "/api/impact": { seq: 1, event: "00".repeat(32), path: ".weftos/artifacts/impact/large.json", report },
  "/api/release": { releases: [], upstream: [], unreadable: [] },
  "/api/peers": mesh,
  "/api/status": status,
};
writeFileSync(`${out}/data.js`, `window.WEFT_DATA = ${JSON.stringify(data)};\n`);
console.log(`${out}/index.html`);
