// The status page in a real browser (Debian's chromium through playwright-core), run by
// tests/browser.rs with UI_URL (serve's /ui), SIM_URL (connect-sim), CHROMIUM,
// PLAYWRIGHT_FROM (where npm installed playwright-core) and SHOTS (screenshot dir).
// Checks: triage order, a chip, a trace expanding, typing filters, keyboard focus, a
// live update after a state change without a reload, staleness while Connect hangs,
// no secret in the DOM. Any failed check exits non-zero with what was seen.
import assert from "node:assert/strict";
import path from "node:path";
import { WAIT, launch, sim } from "./launch.mjs";

const { UI_URL, SHOTS } = process.env;

const names = (page) =>
  page.$$eval("#live tbody tr:not([hidden])", (rows) => rows.map((r) => r.dataset.name));

const browser = await launch();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(UI_URL);
  await page.waitForFunction(() => document.body.dataset.live === "on", null, WAIT);
  const order = await names(page);
  assert.deepEqual(order, ["zz-failed", "mm-degraded", "pp-paused", "aa-healthy"], order.length ? "" : await page.content());
  assert.ok(!(await page.content()).includes("CANARY"), "a secret in the DOM");

  const failed = page.locator('tr[data-name="zz-failed"]');
  const trace = failed.locator("details pre").first();
  assert.ok(!(await trace.isVisible()), "the trace starts folded");
  await failed.locator("details summary").first().click();
  await trace.waitFor({ state: "visible", ...WAIT });
  assert.match(await trace.innerText(), /Caused by: java\.net\.ConnectException/);
  await page.screenshot({ path: path.join(SHOTS, "ui-triage.png"), fullPage: true });

  await page.locator("#q").focus();
  await page.keyboard.type("audit");
  assert.deepEqual(await names(page), ["mm-degraded"], "typing filters the rows");
  await page.keyboard.press("Shift+Tab");
  const focused = await page.evaluate(() => document.activeElement.tagName);
  assert.equal(focused, "A", "the chips are reachable by keyboard");

  await page.goto(UI_URL);
  await page.locator("a.chip.failed").click();
  await page.waitForURL(/state=failed/, WAIT);
  assert.deepEqual(await names(page), ["zz-failed"]);

  await page.goto(UI_URL);
  await page.waitForFunction(() => document.body.dataset.live === "on", null, WAIT);
  await page.evaluate(() => { window.notReloaded = true; });
  await sim("PUT", "/_sim/connectors/aa-healthy/tasks/0/state", {
    state: "FAILED",
    trace: "org.example.Boom: it broke\nCaused by: org.example.Disk: full",
  });
  await page.waitForFunction(() => {
    const row = document.querySelector('tr[data-name="aa-healthy"]');
    return row && row.dataset.triage === "failed";
  }, null, WAIT);
  assert.ok(await page.evaluate(() => window.notReloaded === true), "updated without a reload");
  assert.equal((await names(page))[0], "aa-healthy", "the new failure sorts first");

  await sim("PUT", "/_sim/faults", { hang: true });
  await page.waitForSelector("#age.stale", WAIT);
  assert.match(await page.locator("#age").innerText(), /stale/);
  await page.screenshot({ path: path.join(SHOTS, "ui-stale.png") });
  await sim("DELETE", "/_sim/faults");
  console.log("browser: every check passed");
} finally {
  await browser.close();
}
