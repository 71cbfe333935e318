// The operator console in headless Chromium (Debian `chromium`, driven by playwright-core):
// the first operator is made with `tollgate operator create`, logs in, uploads an OpenAPI
// document as version 2.0.0 of a live API, publishes it and deprecates 1.0.0 with a sunset
// date — all with plain forms (JavaScript is off). Then the edge answers v1 calls with
// Deprecation/Sunset/Link and the developer catalog shows 1.0.0 as deprecated. Next the
// operator creates a consumer and a plan and retires 1.0.0, after which the edge answers 410.
// Screenshots land in tests/e2e/artifacts/ (gitignored).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { freePort, startOrigin, startUpstream, tollgateBin } from "./lib/procs.mjs";
import { startEdge } from "./lib/edge.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const artifacts = path.join(root, "tests/e2e/artifacts");
const petstore = readFileSync(path.join(root, "../shared/testdata/openapi/v3.0/petstore.yaml"), "utf8");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const PASSWORD = "operator password 1";
const GUIDE = "https://docs.example.com/pets/v2";
let origin, upstream, edge, browser, apiId, dataDir;

async function ok(res, status) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  return res.body;
}

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  dataDir = mkdtempSync(path.join(os.tmpdir(), "tollgate-console-"));
  upstream = await startUpstream();
  const edgePort = await freePort();
  origin = await startOrigin({ dataDir, env: { TOLLGATE_EDGE_URL: `http://127.0.0.1:${edgePort}` } });
  edge = await startEdge({ originUrl: origin.url, edgeSecret: origin.edgeSecret, refreshSecs: 1, port: edgePort });
  // A live API with version 1.0.0 published: the operator's starting point.
  const api = await ok(await origin.admin("POST", "/admin/v1/apis", { name: "Pets", base_path: "/pets", upstream_url: upstream.url, auth: { type: "none" } }), 201);
  apiId = api.id;
  const res = await fetch(`${origin.url}/admin/v1/apis/${apiId}/versions?version=1.0.0`, {
    method: "POST",
    headers: { authorization: `Bearer ${origin.adminToken}`, "content-type": "application/yaml" },
    body: petstore,
  });
  assert.equal(res.status, 201, await res.text());
  await ok(await origin.admin("POST", `/admin/v1/apis/${apiId}/versions/1.0.0/publish`, {}), 200);
  // The first operator, as the README says: the CLI on the origin's database.
  const made = spawnSync(tollgateBin, ["operator", "create", "--email", "olga@example.com", "--name", "Olga <Ops>"], {
    env: { ...process.env, TOLLGATE_DATA_DIR: dataDir, TOLLGATE_OPERATOR_PASSWORD: PASSWORD },
    encoding: "utf8",
  });
  assert.equal(made.status, 0, made.stderr);
  assert.match(made.stdout, /operator usr_\w+ \(olga@example.com\) can log in/);
  const deadline = Date.now() + 15000;
  while (Date.now() < deadline && (await fetch(`${edge.url}/pets/v1/pets`)).status !== 200) await new Promise((r) => setTimeout(r, 100));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu"] });
});

after(async () => {
  await browser?.close();
  await edge?.stop();
  await upstream?.stop();
  await origin?.cleanup();
});

const shot = (page, name) => page.screenshot({ path: path.join(artifacts, `console-${name}.png`), fullPage: true });

test("an operator publishes a new version and deprecates the old one, without JavaScript", async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  const violations = [];
  page.on("console", (m) => m.type() === "error" && !/Failed to load resource/.test(m.text()) && violations.push(m.text()));
  // Every stylesheet and page answers; the browser's own favicon probe is the only 404.
  page.on("response", (r) => r.status() >= 400 && !r.url().endsWith("/favicon.ico") && violations.push(`${r.status()} ${r.url()}`));
  await page.goto(`${origin.url}/console`);
  assert.match(page.url(), /\/console\/login$/, "signed-out visitors are sent to log in");
  await page.fill("#email", "olga@example.com");
  await page.fill("#password", PASSWORD);
  await Promise.all([page.waitForURL(/\/console$/), page.click("button[type=submit]")]);
  assert.match(await page.textContent("#who"), /Olga <Ops>/, "the name is shown as text");
  assert.equal(await page.locator("#requests-chart svg").count(), 1, "the requests chart is inline SVG");
  await shot(page, "1-overview");
  await Promise.all([page.waitForURL(/\/console\/apis$/), page.click("nav >> text=APIs")]);
  await Promise.all([page.waitForURL(new RegExp(`/console/apis/${apiId}$`)), page.click("#apis >> text=Pets")]);
  await page.fill("#version", "2.0.0");
  await page.fill("#spec", petstore);
  await shot(page, "2-upload");
  await Promise.all([page.waitForLoadState("load"), page.click("text=Upload as draft")]);
  assert.equal((await page.textContent("#v-2\\.0\\.0 .status")).trim(), "draft");
  await Promise.all([page.waitForLoadState("load"), page.click("text=Publish 2.0.0")]);
  assert.equal((await page.textContent("#v-2\\.0\\.0 .status")).trim(), "published");
  const sunset = new Date(Date.now() + 180 * 86400000).toISOString().slice(0, 10);
  await page.fill("#sunset-1\\.0\\.0", sunset);
  await page.fill("#migration-url-1\\.0\\.0", GUIDE);
  await Promise.all([page.waitForLoadState("load"), page.click("text=Deprecate 1.0.0")]);
  assert.equal((await page.textContent("#v-1\\.0\\.0 .status")).trim(), "deprecated");
  assert.match(await page.textContent("#v-1\\.0\\.0"), new RegExp(`sunset ${sunset}T00:00:00Z`));
  await shot(page, "3-versions");
  await page.goto(`${origin.url}/console/audit`);
  assert.match(await page.textContent("#audit"), /version\.deprecate/);
  await shot(page, "4-audit");
  assert.deepEqual(violations, [], "no CSP violations or errors");
  await context.close();

  // The edge picks the change up within its refresh window: v1 answers carry the headers.
  let res;
  const deadline = Date.now() + 15000;
  while (Date.now() < deadline && !(res = await fetch(`${edge.url}/pets/v1/pets`)).headers.get("sunset")) await new Promise((r) => setTimeout(r, 200));
  assert.equal(res.status, 200);
  assert.match(res.headers.get("deprecation") ?? "", /^@\d{10}$/);
  assert.equal(res.headers.get("sunset"), new Date(`${sunset}T00:00:00Z`).toUTCString());
  assert.equal(res.headers.get("link"), `<${GUIDE}>; rel="deprecation"`);
  const v2 = await fetch(`${edge.url}/pets/v2/pets`);
  assert.equal(v2.status, 200);
  assert.equal(v2.headers.get("sunset"), null);
  // And the developer catalog shows both versions with their status.
  const catalog = await (await fetch(`${origin.url}/portal/apis/${apiId}`)).text();
  assert.match(catalog, /1\.0\.0[\s\S]*deprecated/);
  assert.match(catalog, /2\.0\.0[\s\S]*published/);
});

test("an operator creates a consumer and a plan and retires the deprecated version", async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(`${origin.url}/console/login`);
  await page.fill("#email", "olga@example.com");
  await page.fill("#password", PASSWORD);
  await Promise.all([page.waitForURL(/\/console$/), page.click("button[type=submit]")]);
  await Promise.all([page.waitForURL(/\/console\/consumers$/), page.click("nav >> text=Consumers")]);
  await page.fill("#name", "Acme <app>");
  await page.fill("#email", "dev@acme.example");
  await Promise.all([page.waitForURL(/\/console\/consumers\/con_\w+$/), page.click("text=Create consumer")]);
  await page.goto(`${origin.url}/console/consumers`);
  assert.match(await page.textContent("#consumers"), /Acme <app>/, "the name is shown as text");
  await Promise.all([page.waitForURL(/\/console\/plans$/), page.click("nav >> text=Plans")]);
  await page.fill("#name", "Gold");
  await page.fill("#rate_requests", "ten");
  await page.fill("#rate_seconds", "60");
  await Promise.all([page.waitForLoadState("load"), page.click("text=Create plan")]);
  assert.match(await page.textContent("#form-error"), /whole number/);
  assert.equal(await page.inputValue("#rate_requests"), "ten", "the form keeps what was typed");
  await page.fill("#rate_requests", "10");
  await page.fill("#quota_requests", "1000");
  await page.selectOption("#quota_period", "day");
  await Promise.all([page.waitForURL(/\/console\/plans#plan_\w+$/), page.click("text=Create plan")]);
  assert.match(await page.textContent("#plans"), /Gold[\s\S]*10 per 60 s[\s\S]*1000 per day/);
  await shot(page, "5-plans");
  await page.goto(`${origin.url}/console/apis/${apiId}`);
  assert.equal(await page.locator("text=Retire 2.0.0").count(), 0, "only deprecated versions retire");
  await Promise.all([page.waitForLoadState("load"), page.click("text=Retire 1.0.0")]);
  assert.equal((await page.textContent("#v-1\\.0\\.0 .status")).trim(), "retired");
  await shot(page, "6-retired");
  await context.close();
  let res;
  const deadline = Date.now() + 15000;
  while (Date.now() < deadline && (res = await fetch(`${edge.url}/pets/v1/pets`)).status !== 410) await new Promise((r) => setTimeout(r, 200));
  assert.equal(res.status, 410, "the edge stops routing the retired version");
  assert.equal((await fetch(`${edge.url}/pets/v2/pets`)).status, 200);
});

test("a forged or missing CSRF token is refused and changes nothing", async () => {
  const login = await fetch(`${origin.url}/console/login`);
  const cookie = login.headers.get("set-cookie").split(";")[0];
  for (const form of [{ email: "olga@example.com", password: PASSWORD }, { email: "olga@example.com", password: PASSWORD, csrf: "0".repeat(64) }]) {
    const res = await fetch(`${origin.url}/console/login`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie },
      body: new URLSearchParams(form),
    });
    assert.equal(res.status, 403);
    assert.equal(res.headers.get("set-cookie"), null, "no session was started");
  }
});
