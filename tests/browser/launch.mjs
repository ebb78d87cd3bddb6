// What every browser script shares: Debian's chromium started headless through
// playwright-core (CHROMIUM, PLAYWRIGHT_FROM from tests/browser.rs), the wait every
// check allows, and a JSON request to connect-sim.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import path from "node:path";

export const WAIT = { timeout: 30000 };

export async function launch() {
  const { CHROMIUM, PLAYWRIGHT_FROM } = process.env;
  const { chromium } = createRequire(path.join(PLAYWRIGHT_FROM, "package.json"))("playwright-core");
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
  });
}

// METHOD SIM_URL+route with a JSON body; the answer's JSON (or null when it has none).
export async function sim(method, route, body) {
  const answer = await fetch(process.env.SIM_URL + route, {
    method,
    headers: { "content-type": "application/json" },
    body: body && JSON.stringify(body),
  });
  assert.ok(answer.ok, `${method} ${route}: ${answer.status}`);
  const text = await answer.text();
  return text ? JSON.parse(text) : null;
}
