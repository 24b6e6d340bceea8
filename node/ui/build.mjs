// Builds the page into dist/ (what node/build.rs embeds): the TypeScript bundled by
// esbuild into one classic script (it must also run from file://), the HTML and CSS
// copied, and the live server's data.js. `--unit` instead bundles the pure modules for
// node's test runner into .unit/.
import * as esbuild from "esbuild";
import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";

const here = new URL(".", import.meta.url).pathname;

if (process.argv.includes("--unit")) {
  rmSync(`${here}.unit`, { recursive: true, force: true });
  const tests = readdirSync(`${here}tests`).filter((f) => f.endsWith(".test.ts"));
  await esbuild.build({
    entryPoints: tests.map((t) => `${here}tests/${t}`),
    bundle: true,
    platform: "node",
    format: "esm",
    outdir: `${here}.unit`,
    outExtension: { ".js": ".mjs" },
    external: ["node:*"],
    logLevel: "warning",
  });
} else {
  const dist = `${here}dist`;
  mkdirSync(dist, { recursive: true });
  await esbuild.build({
    entryPoints: [`${here}src/main.ts`],
    bundle: true,
    format: "iife",
    minify: true,
    target: "es2022",
    outfile: `${dist}/app.js`,
    legalComments: "none",
    logLevel: "warning",
  });
  copyFileSync(`${here}index.html`, `${dist}/index.html`);
  copyFileSync(`${here}app.css`, `${dist}/app.css`);
  writeFileSync(`${dist}/data.js`, "window.WEFT_DATA = null;\n");
}
