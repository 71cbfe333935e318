// The developer portal in headless Chromium (Debian `chromium`, driven by playwright-core):
// a new developer signs up, subscribes to the demo API's free plan, creates a key and calls
// the API through the edge from the try-it console — timed, with user actions counted —,
// sees the call in the usage chart (edge → usage queue → origin ledger) and calls the API
// again from the interactive reference (Swagger UI, through the portal's proxy).
// Then hostile inputs: forged or missing CSRF tokens, script in a name, wrong passwords and
// the log-in throttle. Screenshots land in tests/e2e/artifacts/ (gitignored).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { freePort, startOrigin, startUpstream } from "./lib/procs.mjs";
import { startEdge } from "./lib/edge.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const artifacts = path.join(root, "tests/e2e/artifacts");
const petstore = readFileSync(path.join(root, "../shared/testdata/openapi/v3.0/petstore.yaml"));
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
let origin, upstream, edge, browser, apiId;

async function ok(res, status) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  return res.body;
}

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  upstream = await startUpstream();
  const edgePort = await freePort();
  origin = await startOrigin({ env: { TOLLGATE_EDGE_URL: `http://127.0.0.1:${edgePort}` } });
  edge = await startEdge({ originUrl: origin.url, edgeSecret: origin.edgeSecret, refreshSecs: 1, port: edgePort });
  const api = await ok(await origin.admin("POST", "/admin/v1/apis", { name: "Demo pets", base_path: "/demo", upstream_url: upstream.url }), 201);
  apiId = api.id;
  const res = await fetch(`${origin.url}/admin/v1/apis/${apiId}/versions?version=1.0.0`, {
    method: "POST",
    headers: { authorization: `Bearer ${origin.adminToken}`, "content-type": "application/yaml" },
    body: petstore,
  });
  assert.equal(res.status, 201, await res.text());
  await ok(await origin.admin("POST", `/admin/v1/apis/${apiId}/versions/1.0.0/publish`, {}), 200);
  await ok(await origin.admin("POST", "/admin/v1/plans", { name: "Free", type: "free", rate_limit: { requests: 100, per_seconds: 60 }, quota: { requests: 1000, period: "month" } }), 201);
  // An API nobody published stays out of the catalog.
  await ok(await origin.admin("POST", "/admin/v1/apis", { name: "Secret draft", base_path: "/hidden", upstream_url: upstream.url }), 201);
  // Wait until the edge routes the API (401: it knows the route and wants a key).
  const deadline = Date.now() + 15000;
  while (Date.now() < deadline && (await fetch(`${edge.url}/demo/pets`)).status !== 401) await new Promise((r) => setTimeout(r, 100));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu"] });
});

after(async () => {
  await browser?.close();
  await edge?.stop();
  await upstream?.stop();
  await origin?.cleanup();
});

const shot = (page, name) => page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });

test("a new developer goes from sign-up to a successful call through the edge in six actions", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const dialogs = [];
  page.on("dialog", (d) => (dialogs.push(d.message()), d.dismiss()));
  let actions = 0;
  const act = async (what) => {
    actions += 1;
    await what();
  };
  const started = Date.now();
  await act(() => page.goto(`${origin.url}/portal/signup`));
  await shot(page, "1-signup");
  await page.fill("#name", "Ada Lovelace");
  await page.fill("#email", "ada@example.com");
  await page.fill("#password", "analytical engine");
  await act(() => Promise.all([page.waitForURL("**/portal/apis"), page.click("button[type=submit]")]));
  await shot(page, "2-catalog");
  assert.match(await page.textContent("main"), /Demo pets/);
  assert.doesNotMatch(await page.textContent("main"), /Secret draft/, "unpublished APIs stay hidden");
  await act(() => Promise.all([page.waitForURL(`**/portal/apis/${apiId}`), page.click("text=Demo pets")]));
  await shot(page, "3-api");
  await act(() => Promise.all([page.waitForURL("**/portal/keys"), page.click("text=Subscribe to Free")]));
  await shot(page, "4-keys");
  await act(() => Promise.all([page.waitForLoadState("load"), page.click("text=Create key")]));
  await page.waitForSelector("#new-key");
  const key = await page.inputValue("#new-key");
  assert.match(key, /^tg_/);
  await shot(page, "5-key-created");
  await act(() => Promise.all([page.waitForSelector("#try-status"), page.click("#try-send")]));
  const status = await page.textContent("#try-status");
  const seconds = (Date.now() - started) / 1000;
  await shot(page, "6-try-it");
  assert.match(status, /^200 OK/, await page.textContent("#try-body"));
  assert.match(await page.textContent("#try-body"), /"method": "GET"|GET/);
  console.log(`# sign-up → first successful call: ${seconds.toFixed(2)} s, ${actions} user actions (plus 3 fields typed)`);
  assert.ok(actions <= 6, `${actions} actions`);
  assert.ok(seconds < 60, `${seconds} s`);
  // The call reaches the usage ledger through the edge's usage queue and shows in the chart.
  const cspErrors = [];
  page.on("console", (m) => /Content Security Policy|Refused to/.test(m.text()) && cspErrors.push(m.text()));
  // The quota bar is in the page's HTML and the charts load after it from usage.json, so
  // the call can land between the two: poll until both show it.
  let drawn = 0;
  let counted = 0;
  const usageDeadline = Date.now() + 30000;
  while (Date.now() < usageDeadline) {
    await page.goto(`${origin.url}/portal/usage`);
    await page.waitForSelector("#usage-charts[data-loaded=true]");
    drawn = Number(await page.getAttribute(".chart[data-granularity=hour][data-by=apis]", "data-total"));
    counted = Number(await page.getAttribute("progress", "value"));
    if (drawn > 0 && counted > 0) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.ok(drawn >= 1, "the try-it call is in the hourly chart");
  assert.ok((await page.$$(".chart .uplot")).length === 4, "four uPlot charts");
  assert.ok(counted >= 1, "the quota bar counts it");
  await shot(page, "7-usage");
  // The version page has snippets; the reference (Swagger UI) calls the edge with the key.
  await page.goto(`${origin.url}/portal/apis/${apiId}/versions/1.0.0`);
  assert.match(await page.textContent("main"), /Bearer YOUR_API_KEY/);
  await shot(page, "8-version");
  await page.click("text=Interactive reference");
  await page.waitForSelector(".swagger-ui .opblock");
  await page.click(".swagger-ui .auth-wrapper .authorize");
  await page.fill(".swagger-ui .modal-ux input[type=text]", key);
  await page.click(".swagger-ui .modal-ux .auth-btn-wrapper .authorize");
  await page.click(".swagger-ui .modal-ux .btn-done");
  await page.click(".swagger-ui .opblock-get .opblock-summary");
  await page.click(".swagger-ui .try-out__btn");
  await page.click(".swagger-ui .execute");
  await page.waitForSelector(".swagger-ui .live-responses-table tbody .response-col_status");
  await shot(page, "9-reference");
  assert.equal((await page.textContent(".swagger-ui .live-responses-table tbody .response-col_status")).trim(), "200");
  assert.deepEqual(cspErrors, [], "nothing is refused by the CSP");
  // This month's invoice (a draft from the free plan), with its explained lines.
  const subs = await ok(await origin.admin("GET", "/admin/v1/subscriptions"), 200);
  const month = new Date().toISOString().slice(0, 8) + "01T00:00:00Z";
  const invoice = await ok(await origin.admin("POST", "/admin/v1/invoices/generate", { consumer_id: subs[0].consumer_id, period_start: month }), 200);
  await page.goto(`${origin.url}/portal/invoices`);
  await page.click(`text=${invoice.id}`);
  await page.waitForURL(`**/portal/invoices/${invoice.id}`);
  await shot(page, "10-invoice");
  assert.match(await page.textContent("main"), /Total/);
  // The key is shown once: the keys page shows only its prefix.
  await page.goto(`${origin.url}/portal/keys`);
  const listing = await page.textContent("main");
  assert.ok(!listing.includes(key), "the full key is never listed");
  assert.ok(listing.includes(key.slice(0, 8)));
  // The same key works from anywhere, and revoking it in the portal stops it at the edge.
  assert.equal((await fetch(`${edge.url}/demo/pets`, { headers: { authorization: `Bearer ${key}` } })).status, 200);
  await page.click("text=Revoke");
  await page.waitForSelector(".badge.revoked");
  let revoked = 0;
  const until = Date.now() + 15000;
  while (Date.now() < until && (revoked = (await fetch(`${edge.url}/demo/pets`, { headers: { authorization: `Bearer ${key}` } })).status) !== 401)
    await new Promise((r) => setTimeout(r, 200));
  assert.equal(revoked, 401);
  assert.deepEqual(dialogs, []);
  await context.close();
});

async function anonymousSession() {
  const res = await fetch(`${origin.url}/portal/login`);
  assert.equal(res.status, 200);
  const cookie = res.headers.get("set-cookie");
  assert.match(cookie, /^tg_portal=[0-9a-f]{64}; Path=\/portal; HttpOnly; SameSite=Lax/);
  assert.match(res.headers.get("content-security-policy"), /frame-ancestors 'none'/);
  assert.match(res.headers.get("content-security-policy"), /script-src 'self'/);
  const csrf = (await res.text()).match(/name="csrf" value="([0-9a-f]{64})"/)[1];
  return { cookie: cookie.split(";")[0], csrf };
}

const post = (pathname, form, cookie) =>
  fetch(`${origin.url}${pathname}`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", ...(cookie ? { cookie } : {}) },
    body: new URLSearchParams(form),
  });

test("forms without the session's CSRF token are refused with 403", async () => {
  const { cookie, csrf } = await anonymousSession();
  const other = await anonymousSession();
  const form = { name: "Mallory", email: "mallory@example.com", password: "long enough password" };
  for (const [label, res] of [
    ["missing", await post("/portal/signup", form, cookie)],
    ["forged", await post("/portal/signup", { ...form, csrf: "0".repeat(64) }, cookie)],
    ["another session's", await post("/portal/signup", { ...form, csrf: other.csrf }, cookie)],
    ["no cookie", await post("/portal/signup", { ...form, csrf })],
    ["log-out without a token", await post("/portal/logout", {}, cookie)],
  ]) {
    assert.equal(res.status, 403, label);
    assert.match(await res.text(), /security token|session has expired/, label);
  }
  // Nothing was created: the real token still signs up once.
  const res = await post("/portal/signup", { ...form, csrf }, cookie);
  assert.equal(res.status, 303);
});

test("script in a name is shown as text, never run", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const dialogs = [];
  page.on("dialog", (d) => (dialogs.push(d.message()), d.dismiss()));
  const evil = `<img src=x onerror=alert(1)><script>alert(2)</script>`;
  await page.goto(`${origin.url}/portal/signup`);
  await page.fill("#name", evil);
  await page.fill("#email", "eve@example.com");
  await page.fill("#password", "a long password");
  await Promise.all([page.waitForURL("**/portal/apis"), page.click("button[type=submit]")]);
  assert.equal(await page.textContent(".who"), evil);
  assert.match(await page.content(), /&lt;img src=x onerror=alert\(1\)&gt;&lt;script&gt;/);
  await shot(page, "xss-escaped");
  assert.deepEqual(dialogs, []);
  await context.close();
});

test("a wrong password is refused, and the sixth failure in 15 minutes is throttled", async () => {
  const s = await anonymousSession();
  const signUp = await post("/portal/signup", { csrf: s.csrf, name: "Grace", email: "grace@example.com", password: "compiler compiler" }, s.cookie);
  assert.equal(signUp.status, 303);
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${origin.url}/portal/login`);
  await page.fill("#email", "grace@example.com");
  await page.fill("#password", "not the password");
  const [res] = await Promise.all([page.waitForResponse((r) => r.request().method() === "POST"), page.click("button[type=submit]")]);
  assert.equal(res.status(), 401);
  assert.match(await page.textContent("#form-error"), /Wrong email or password/);
  await shot(page, "login-wrong-password");
  // Four more failures (five in all), then even the right password waits.
  const { cookie, csrf } = await anonymousSession();
  for (let i = 0; i < 4; i++) assert.equal((await post("/portal/login", { csrf, email: "grace@example.com", password: `guess ${i}` }, cookie)).status, 401);
  const throttled = await post("/portal/login", { csrf, email: "GRACE@example.com", password: "compiler compiler" }, cookie);
  assert.equal(throttled.status, 429);
  assert.ok(Number(throttled.headers.get("retry-after")) > 0);
  assert.match(await throttled.text(), /Too many failed log-ins/);
  // Another account is not affected, and it logs in with a fresh session cookie.
  const a = await anonymousSession();
  const login = await post("/portal/login", { csrf: a.csrf, email: "mallory@example.com", password: "long enough password" }, a.cookie);
  assert.equal(login.status, 303);
  assert.notEqual(login.headers.get("set-cookie").split(";")[0], a.cookie, "logging in starts a new session");
  await context.close();
});
