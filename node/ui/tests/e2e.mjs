// Drives the page in Debian's chromium (headless, playwright-core) for the browser
// tests of `weft ui` (tests/tests/ui_browser.rs) and for the render measurements.
//
//   node e2e.mjs SCENARIO --url URL [--expect JSON] [--shot FILE.png] [--timeout-ms N]
//
// impact: every expect.peers entry is listed, with each of expect.uses[peer] (path:line);
//         with --code-shot FILE, the code view is opened and shot too.
// proof:  #/chain/{expect.seq} shows data-proof-status = expect.status ("verified"/"failed").
// mesh:   expect.peer shows connected; prints READY; then waits until it shows not connected.
// members: #/mesh lists every expect.members name among the cluster's members, one leader.
// render: prints {view, ms, nodes} — the time from navigation to the view's first layout.
// Any console error or CSP violation fails the scenario. Exit 0 when it holds, 1 if not.
import { chromium } from "playwright-core";

const [scenario, ...rest] = process.argv.slice(2);
const opt = {};
for (let i = 0; i < rest.length; i += 2) opt[rest[i].replace(/^--/, "")] = rest[i + 1];
const expect = opt.expect ? JSON.parse(opt.expect) : {};
const timeout = Number(opt["timeout-ms"] ?? 60000);

function fail(message) {
  console.error(`e2e ${scenario}: ${message}`);
  process.exitCode = 1;
  throw new Error(message);
}

function at(url, hash) {
  const u = new URL(url);
  u.hash = hash;
  return u.toString();
}

const browser = await chromium.launch({
  executablePath: process.env.WEFT_CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox"],
});
const problems = [];
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.setDefaultTimeout(timeout);
  // A failed answer of /api/ is the view's to show (and the next poll's to recover from,
  // e.g. a 503 while a member is busy); any other failed request is a problem.
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) problems.push(`console: ${m.text()}`);
  });
  page.on("response", (r) => {
    const path = r.url().startsWith("file:") ? "" : new URL(r.url()).pathname;
    if (r.status() >= 400 && !path.startsWith("/api/")) problems.push(`HTTP ${r.status()} for ${r.url()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  if (scenario === "impact") {
    await page.goto(at(opt.url, "#/impact"));
    await page.waitForSelector("[data-peer]");
    await page.waitForFunction(() => window.__weftRendered !== undefined);
    for (const peer of expect.peers ?? []) {
      const item = page.locator(`li[data-peer="${peer}"]`);
      if ((await item.count()) !== 1) fail(`peer ${peer} is not listed`);
      for (const use of expect.uses?.[peer] ?? []) {
        if ((await item.locator(`[data-use="${use}"]`).count()) < 1) fail(`${peer} does not show its use ${use}`);
      }
    }
    const first = Object.entries(expect.uses ?? {})[0];
    if (first) {
      await page.locator(`li[data-peer="${first[0]}"] [data-use="${first[1][0]}"]`).first().click();
      await page.waitForSelector(`[data-selected-use="${first[1][0]}"] [data-rule]`);
    }
    if (opt["code-shot"]) {
      // The code view of the same node: its module graph lays out without errors.
      await page.screenshot({ path: opt.shot });
      await page.evaluate(() => { window.__weftRendered = undefined; location.hash = "#/code"; });
      await page.waitForFunction(() => window.__weftRendered !== undefined);
      await page.waitForSelector("h2");
      await page.screenshot({ path: opt["code-shot"] });
      opt.shot = undefined;
    }
  } else if (scenario === "proof") {
    await page.goto(at(opt.url, `#/chain/${expect.seq}`));
    const status = page.locator("[data-proof-status]");
    await status.waitFor();
    const text = (await status.textContent()) ?? "";
    const want = expect.status ?? "verified";
    if (want === "verified" ? text !== "verified" : !text.startsWith("failed")) fail(`the proof shows ${JSON.stringify(text)}, not ${want}`);
    console.log(text);
  } else if (scenario === "mesh") {
    await page.goto(at(opt.url, "#/mesh"));
    const cell = page.locator(`tr[data-peer="${expect.peer}"] [data-field="connection"]`);
    await page.waitForFunction((sel) => document.querySelector(sel)?.textContent === "connected", `tr[data-peer="${expect.peer}"] [data-field="connection"]`);
    console.log("READY");
    await page.waitForFunction((sel) => document.querySelector(sel)?.textContent === "not connected", `tr[data-peer="${expect.peer}"] [data-field="connection"]`, { timeout });
    if ((await cell.textContent()) !== "not connected") fail("the peer still shows connected");
  } else if (scenario === "members") {
    await page.goto(at(opt.url, "#/mesh"));
    for (const name of expect.members ?? []) {
      await page.waitForSelector(`tr[data-member="${name}"] [data-field="role"]`);
    }
    const roles = await page.$$eval("tr[data-member] [data-field=role]", (cells) => cells.map((c) => c.textContent));
    if (roles.filter((r) => r === "leader").length !== 1) fail(`the members show roles ${JSON.stringify(roles)}, not one leader`);
  } else if (scenario === "render") {
    const view = expect.view ?? "impact";
    const started = Date.now();
    await page.goto(at(opt.url, `#/${view}`));
    await page.waitForFunction(() => window.__weftRendered !== undefined);
    const ms = await page.evaluate(() => window.__weftRendered);
    console.log(JSON.stringify({ view, ms: Math.round(ms), wall_ms: Date.now() - started }));
  } else {
    fail(`unknown scenario ${scenario}`);
  }
  if (opt.shot) await page.screenshot({ path: opt.shot, fullPage: false });
  if (problems.length) fail(problems.join("; "));
} catch (e) {
  if (!process.exitCode) console.error(`e2e ${scenario}: ${e.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
