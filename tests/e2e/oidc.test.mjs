// Single sign-on with OpenID Connect against real provider processes: panva's
// `oidc-provider` (authorization code + PKCE, its own login and consent pages, driven in
// headless Chromium) and a hostile provider whose ID tokens carry another nonce, audience
// or issuer, or a foreign signature. Every refusal is a page saying why, with no session.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { freePort, startOrigin } from "./lib/procs.mjs";
import { CLIENT_ID, CLIENT_SECRET, startHostileProvider, startOidcProvider } from "./lib/oidc.mjs";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
let origin, provider, hostileOrigin, hostile, browser;

const sso = (issuer) => ({
  TOLLGATE_OIDC_ISSUER: issuer,
  TOLLGATE_OIDC_CLIENT_ID: CLIENT_ID,
  TOLLGATE_OIDC_CLIENT_SECRET: CLIENT_SECRET,
  TOLLGATE_OIDC_NAME: "Test IdP",
});

before(async () => {
  const port = await freePort();
  origin = await startOrigin({ env: sso(`http://127.0.0.1:${port}`) });
  provider = await startOidcProvider({ port, redirectUri: `${origin.url}/portal/oidc/callback` });
  hostile = await startHostileProvider();
  hostileOrigin = await startOrigin({ env: sso(hostile.issuer) });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu"] });
});

after(async () => {
  await browser?.close();
  await provider?.stop();
  await hostile?.stop();
  await origin?.cleanup();
  await hostileOrigin?.cleanup();
});

/** Signs in through the provider's pages; returns the page and the callback URL used. */
async function signInWithProvider(context, login) {
  const page = await context.newPage();
  let callback;
  page.on("request", (r) => {
    if (r.url().includes("/portal/oidc/callback")) callback = r.url();
  });
  await page.goto(`${origin.url}/portal/login`);
  await Promise.all([page.waitForNavigation(), page.click("#sso")]);
  // The provider's login page, then (first time for this client) its consent page.
  for (let step = 0; step < 4 && !page.url().startsWith(origin.url); step++) {
    if (await page.locator("input[name=login]").count()) {
      await page.fill("input[name=login]", login);
      await page.fill("input[name=password]", "anything");
    }
    await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
  }
  assert.ok(page.url().startsWith(origin.url), `still at the provider: ${page.url()}`);
  return { page, callback };
}

async function signedIn(page) {
  const res = await page.goto(`${origin.url}/portal/keys`);
  return res.url().endsWith("/portal/keys");
}

test("a developer signs in with the provider: a new verified account, and the callback works once", async () => {
  const context = await browser.newContext();
  const { page, callback } = await signInWithProvider(context, "ada");
  assert.ok(page.url().endsWith("/portal/apis"), page.url());
  assert.match(await page.textContent("header"), /SSO ada/);
  assert.equal(await page.locator("#verify-banner").count(), 0, "the provider verified the email");
  assert.ok(await signedIn(page));
  assert.ok(callback?.includes("code=") && callback.includes("state="), callback);
  // Replaying the callback (same browser, state used up; another browser, state not its own).
  for (const ctx of [context, await browser.newContext()]) {
    const p = await ctx.newPage();
    const res = await p.goto(callback);
    assert.equal(res.status(), 400);
    assert.match(await p.textContent("main"), /Sign-in failed[\s\S]*state/);
  }
  const stranger = await (await browser.newContext()).newPage();
  await stranger.goto(callback);
  assert.equal(await signedIn(stranger), false, "a replayed code signs nobody in");
  // A forged state in a browser that started its own sign-in is refused too.
  const forged = new URL(callback);
  forged.searchParams.set("state", "forged-state");
  const p2 = await (await browser.newContext()).newPage();
  const res = await p2.goto(forged.toString());
  assert.equal(res.status(), 400);
  assert.equal(await signedIn(p2), false);
});

test("a password account with the same, unproven address is linked and its password dropped", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${origin.url}/portal/signup`);
  await page.fill("#name", "Grace Hopper");
  await page.fill("#email", "grace@example.com");
  await page.fill("#password", "a long password");
  await page.click("button[type=submit]");
  await page.waitForURL(/\/portal\/apis$/);
  assert.equal(await page.locator("#verify-banner").count(), 1);
  const { page: after } = await signInWithProvider(await browser.newContext(), "grace");
  assert.match(await after.textContent("header"), /Grace Hopper/, "the same account");
  assert.equal(await after.locator("#verify-banner").count(), 0);
  // The password set before anyone proved the address no longer signs in; its session ended.
  assert.equal(await signedIn(page), false);
  const login = await (await browser.newContext()).newPage();
  await login.goto(`${origin.url}/portal/login`);
  await login.fill("#email", "grace@example.com");
  await login.fill("#password", "a long password");
  await login.click("button[type=submit]");
  assert.match(await login.textContent("#form-error"), /Wrong email or password/);
});

test("an address the provider has not verified cannot take over an existing account", async () => {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${origin.url}/portal/signup`);
  await page.fill("#name", "Owner");
  await page.fill("#email", "unverified-linus@example.com");
  await page.fill("#password", "a long password");
  await page.click("button[type=submit]");
  await page.waitForURL(/\/portal\/apis$/);
  const { page: sso } = await signInWithProvider(await browser.newContext(), "unverified-linus");
  assert.match(await sso.textContent("main"), /Sign-in failed[\s\S]*not verified/);
  assert.equal(await signedIn(sso), false);
});

/** Runs the hostile provider's flow with fetch; returns the callback's answer. */
async function hostileFlow() {
  let res = await fetch(`${hostileOrigin.url}/portal/oidc/start`, { redirect: "manual" });
  assert.equal(res.status, 303);
  const cookie = res.headers.get("set-cookie").split(";")[0];
  res = await fetch(res.headers.get("location"), { redirect: "manual" });
  assert.equal(res.status, 302);
  const callback = res.headers.get("location");
  res = await fetch(callback, { headers: { cookie }, redirect: "manual" });
  const session = res.headers.get("set-cookie")?.split(";")[0] ?? cookie;
  const keys = await fetch(`${hostileOrigin.url}/portal/keys`, { headers: { cookie: session }, redirect: "manual" });
  return { status: res.status, html: await res.text(), signedIn: keys.status === 200, callback, cookie: session };
}

test("ID tokens with another nonce, audience or issuer, or a foreign signature sign nobody in", async () => {
  hostile.state.mode = "good";
  const good = await hostileFlow();
  assert.equal(good.status, 303, good.html);
  assert.ok(good.signedIn, "the control case signs in");
  for (const [mode, reason] of [
    ["wrong-nonce", /nonce/],
    ["wrong-aud", /audience/],
    ["wrong-iss", /issuer/],
    ["foreign-key", /signature/],
  ]) {
    hostile.state.mode = mode;
    const r = await hostileFlow();
    assert.equal(r.status, 400, `${mode}: ${r.html}`);
    assert.match(r.html, /Sign-in failed/);
    assert.match(r.html, reason, mode);
    assert.equal(r.signedIn, false, mode);
  }
  // The good flow's callback replayed: its state is used up, the provider is not even asked.
  const before = hostile.state.tokenRequests;
  const replay = await fetch(good.callback, { headers: { cookie: good.cookie }, redirect: "manual" });
  assert.equal(replay.status, 400);
  assert.equal(hostile.state.tokenRequests, before);
});
