// reconcile's status page in a real browser, run by tests/browser.rs with UI_URL
// (reconcile's /ui), SIM_URL (connect-sim), DIR (the manifests' directory), CHROMIUM,
// PLAYWRIGHT_FROM and SHOTS. Checks: every declared connector desired against live; a
// hand edit in Connect shows as drift put back, sorted first, without a reload; a
// manifest Connect refuses shows first with its problem and the rest pending; typing
// filters the declared rows; no secret in the DOM.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { WAIT, launch, sim } from "./launch.mjs";

const { UI_URL, DIR, SHOTS } = process.env;

const declared = (page) =>
  page.$$eval("#declared tbody tr:not([hidden])", (rows) => rows.map((r) => `${r.dataset.name}:${r.dataset.fate}`));

const browser = await launch();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(UI_URL);
  await page.waitForFunction(() => document.body.dataset.live === "on", null, WAIT);
  await page.waitForFunction(() => document.querySelectorAll('#declared tr[data-fate="in-sync"]').length === 2, null, WAIT);
  assert.deepEqual(await declared(page), ["audit:in-sync", "orders:in-sync"]);
  assert.match(await page.locator('#declared tr[data-name="orders"] .owner').innerText(), /^ours$/);
  assert.match(await page.locator('#declared tr[data-name="orders"] .states').innerText(), /running \/ running/);

  await page.evaluate(() => { window.notReloaded = true; });
  const config = await sim("GET", "/connectors/orders/config");
  await sim("PUT", "/connectors/orders/config", { ...config, topics: "edited-by-hand" });
  await page.waitForSelector('#declared tr[data-name="orders"] .drift', WAIT);
  assert.match(await page.locator('#declared tr[data-name="orders"] .drift').innerText(), /drift corrected .* ago: update topics/);
  assert.equal((await declared(page))[0], "orders:in-sync", "a recent drift sorts first");
  assert.ok(await page.evaluate(() => window.notReloaded === true), "updated without a reload");

  writeFileSync(path.join(DIR, "bad.json"), JSON.stringify({
    name: "bad",
    config: {
      "connector.class": "io.confluent.connect.jdbc.JdbcSourceConnector",
      "connection.url": "jdbc:postgresql://db/x", "tasks.max": "many", "connection.password": "CANARY-browser-5150",
    },
  }));
  await page.waitForSelector('#declared tr[data-name="bad"][data-fate="refused"]', WAIT);
  assert.deepEqual((await declared(page))[0], "bad:refused", "the refusal sorts first");
  assert.match(await page.locator('#declared tr[data-name="bad"] .fate').innerText(), /tasks\.max: Invalid value many/);
  assert.match(await page.title(), /^1 need attention/);
  await page.screenshot({ path: path.join(SHOTS, "reconcile.png"), fullPage: true });

  await page.locator("#q").focus();
  await page.keyboard.type("bad");
  assert.deepEqual(await declared(page), ["bad:refused"], "typing filters the declared rows");
  assert.ok(!(await page.content()).includes("CANARY"), "a secret in the DOM");
  console.log("browser: every reconcile check passed");
} finally {
  await browser.close();
}
