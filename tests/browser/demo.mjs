// The demo's status pages in chromium, for the README's screenshots: waits until the
// persistent failure and the flaky one are both on serve's page, then photographs it;
// waits until the reconciler's page shows the hand edit put back, then photographs
// that. Run by tests/browser.rs with UI_URL, RECONCILE_URL, CHROMIUM, PLAYWRIGHT_FROM
// and SHOTS.
import assert from "node:assert/strict";
import path from "node:path";
import { WAIT, launch, sim } from "./launch.mjs";

const { UI_URL, RECONCILE_URL, SHOTS } = process.env;

const browser = await launch();
try {
  for (const scheme of ["light", "dark"]) {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, colorScheme: scheme });
    await page.goto(UI_URL);
    await page.waitForSelector('tr[data-name="crm-jdbc-sink"][data-triage="persistent"]', WAIT);
    await page.waitForSelector('tr[data-name="s3-archive-sink"][data-triage="degraded"]', WAIT);
    const first = await page.$$eval("#live tbody tr", (rows) => rows.slice(0, 2).map((r) => r.dataset.name));
    assert.deepEqual(first, ["crm-jdbc-sink", "s3-archive-sink"]);
    await page.locator('tr[data-name="crm-jdbc-sink"] details summary').first().click();
    await page.screenshot({ path: path.join(SHOTS, `demo-${scheme}.png`), fullPage: true });
    await page.close();
  }
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, colorScheme: "light" });
  await page.goto(RECONCILE_URL);
  await page.waitForSelector('#declared tr[data-name="orders-jdbc-source"] .drift', WAIT);
  const first = await page.$$eval("#declared tbody tr", (rows) => rows[0].dataset.name);
  assert.equal(first, "orders-jdbc-source", "the drift sorts first");
  assert.ok(!(await page.content()).includes("change-me"), "the demo's --vars password in the DOM");
  await page.screenshot({ path: path.join(SHOTS, "demo-reconcile.png"), fullPage: true });
  await page.close();
  console.log("browser: demo photographed");
} finally {
  await browser.close();
}
