// Browser tier, page "demo": the demo page (npm run demo) in headless Chromium, used as a person
// would: a valid envelope and a tampered copy, a signature triple (RFC 8032 §7.1 TEST 2) valid,
// tampered and malformed, then the benchmark view. Screenshots go to test-output/browser/.
import path from "node:path";
import { serveDemo } from "./demo.mjs";

export async function runDemoStage({ root, out, context }) {
  const started = Date.now();
  const server = await serveDemo({ port: 0, outDir: path.join(out, "demo") });
  const page = await context.newPage();
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  const results = [];
  const check = async (name, fn) => {
    const t0 = Date.now();
    try {
      await fn();
      if (process.env.CHIO_TIMING) console.log(`    ${Date.now() - t0} ms: ${name}`);
      results.push({ name, ok: true });
    } catch (error) {
      results.push({ name, ok: false, error: String(error?.stack ?? error) });
    }
  };
  const expect = (cond, what) => {
    if (!cond) throw new Error(what);
  };
  const verdict = async () => ({
    verdict: await page.getAttribute("#verdict", "data-verdict"),
    headline: await page.textContent("#verdict"),
    code: await page.textContent("#out-code"),
    canonical: await page.textContent("#out-canonical"),
    time: await page.textContent("#out-time"),
  });
  try {
    await check("the page loads and awaits init() (chio.wasm fetched)", async () => {
      await page.goto(`${server.origin}/?budgetMs=${Number(process.env.CHIO_DEMO_BUDGET_MS ?? 150)}`); // README images: 1000
      await page.waitForSelector("body[data-ready=true]", { timeout: 30_000 });
    });
    await check("a valid envelope: VALID, its canonical challenge bytes, the time, no error code", async () => {
      await page.click("#example-envelope");
      await page.click("#verify-envelope");
      const v = await verdict();
      expect(v.verdict === "valid", JSON.stringify(v));
      expect(v.code === "—", v.code);
      expect(v.canonical.startsWith('{"localKernelId":"kernel.org-a","nonce":"') && v.canonical.includes('"schema":"chio.federation-kernel-handshake.v1"'), v.canonical);
      expect(/^\d+(\.\d+)? (µs|ms)$/.test(v.time), v.time);
    });
    await check("the same envelope with one nonce character changed: INVALID_SIGNATURE", async () => {
      const before = await page.inputValue("#envelope");
      await page.click("#tamper-envelope");
      expect((await page.inputValue("#envelope")) !== before, "tamper changed nothing");
      await page.click("#verify-envelope");
      const v = await verdict();
      expect(v.verdict === "invalid" && v.code === "INVALID_SIGNATURE", JSON.stringify(v));
      await page.screenshot({ path: path.join(out, "demo-verify.png"), clip: { x: 0, y: 0, width: 1100, height: 590 } });
    });
    await check("a signature triple: RFC 8032 TEST 2 valid; a flipped signature bit invalid; bad hex refused with its code", async () => {
      await page.click("#example-triple");
      await page.click("#verify-triple");
      expect((await verdict()).verdict === "valid", "TEST 2 not valid");
      const sig = await page.inputValue("#signature");
      await page.fill("#signature", sig.slice(0, -1) + (sig.endsWith("0") ? "1" : "0"));
      await page.click("#verify-triple");
      expect((await verdict()).verdict === "invalid", "flipped signature accepted");
      await page.fill("#signature", "zz" + sig.slice(2));
      await page.click("#verify-triple");
      const v = await verdict();
      expect(v.verdict === "invalid" && v.code === "INVALID_HEX", JSON.stringify(v));
    });
    await check("the benchmark view measures both libraries and draws six bars", async () => {
      await page.click("#tab-bench");
      await page.click("#run-bench");
      await page.waitForSelector("#chart[data-results]", { timeout: 120_000 });
      const rows = JSON.parse(await page.getAttribute("#chart", "data-results"));
      expect(rows.length === 6 && rows.every((r) => r.opsPerSec > 0), JSON.stringify(rows));
      expect((await page.locator("#chart svg rect").count()) === 6, "bars");
      await page.screenshot({ path: path.join(out, "demo-bench.png") });
      await page.locator("#chart svg").screenshot({ path: path.join(out, "demo-chart.png") });
      console.log(`    demo benchmark: ${rows.map((r) => `${r.operation} ${r.implementation} ${Math.round(r.opsPerSec)}/s`).join("; ")}`);
    });
    await check("no uncaught error in the page", () => expect(pageErrors.length === 0, pageErrors.join("\n")));
  } finally {
    await page.close();
    await server.close();
  }
  const failed = results.filter((r) => !r.ok);
  return {
    files: [{ file: "demo page", total: results.length, passed: results.length - failed.length, skipped: 0, errors: failed.map((r) => `${r.name}: ${r.error}`) }],
    total: results.length,
    passed: results.length - failed.length,
    skipped: 0,
    durationMs: Date.now() - started,
  };
}
