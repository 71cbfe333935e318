// OAuth2 client credentials end to end: the origin issues an ES256 access token for a
// client of a subscription; the edge (workerd) verifies it against the origin's published
// JWKS with no per-request origin call, applies the token's plan, and refuses the client's
// outstanding tokens within the refresh window once the client is revoked.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startOrigin, startUpstream } from "./lib/procs.mjs";
import { startEdge } from "./lib/edge.mjs";

let origin, upstream, edge, consumer, plan, client, issuer;

async function ok(res, status = 200) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  return res.body;
}

async function token(id, secret, extra = {}) {
  const res = await fetch(`${origin.url}/oauth/token`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}`,
    },
    body: new URLSearchParams({ grant_type: "client_credentials", ...extra }),
  });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.equal(body.token_type.toLowerCase(), "bearer");
  return body.access_token;
}

const call = (tok, path = "/m2m/data") =>
  fetch(`${edge.url}${path}`, { headers: tok ? { authorization: `Bearer ${tok}` } : {} });

async function eventually(check, what, ms = 10000) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    last = await check();
    if (last === true) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`${what} did not happen within ${ms} ms (last: ${last})`);
}

before(async () => {
  upstream = await startUpstream();
  origin = await startOrigin();
  edge = await startEdge({ originUrl: origin.url, edgeSecret: origin.edgeSecret, refreshSecs: 1 });
  const discovery = await (await fetch(`${origin.url}/.well-known/openid-configuration`)).json();
  issuer = discovery.issuer;
  const api = await ok(await origin.admin("POST", "/admin/v1/apis", {
    name: "m2m", base_path: "/m2m", upstream_url: upstream.url,
    auth: { type: "jwt", jwks_url: discovery.jwks_uri, issuer, audience: "https://m2m.example" },
  }), 201);
  consumer = await ok(await origin.admin("POST", "/admin/v1/consumers", { name: "Batch job", email: "batch@acme.example" }), 201);
  plan = await ok(await origin.admin("POST", "/admin/v1/plans", { name: "M2M" }), 201);
  const sub = await ok(await origin.admin("POST", "/admin/v1/subscriptions", { consumer_id: consumer.id, api_id: api.id, plan_id: plan.id }), 201);
  client = await ok(await origin.admin("POST", "/admin/v1/oauth/clients", { consumer_id: consumer.id, subscription_id: sub.id, scopes: ["m2m:read"] }), 201);
  const tok = await token(client.client_id, client.client_secret);
  await eventually(async () => (await call(tok)).status === 200 || "not yet", "the edge admitting the token");
});

after(async () => {
  await edge?.stop();
  await upstream?.stop();
  await origin?.cleanup();
});

test("an origin-issued token reaches the upstream as its consumer and plan", async () => {
  const tok = await token(client.client_id, client.client_secret);
  const res = await call(tok, "/m2m/data?x=1");
  assert.equal(res.status, 200);
  const seen = await res.json();
  assert.equal(seen.headers["x-tollgate-consumer-id"], consumer.id);
  assert.equal(seen.headers["x-tollgate-plan-id"], plan.id);
  assert.equal(seen.headers.authorization, undefined, "the token must not reach the upstream");
  assert.equal(seen.query, "x=1");
});

test("tampered, foreign-audience and absent tokens are 401 with a Bearer challenge", async () => {
  const tok = await token(client.client_id, client.client_secret);
  const [h, p, s] = tok.split(".");
  const claims = JSON.parse(Buffer.from(p, "base64url"));
  claims.sub = "con_someone_else";
  const forged = `${h}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${s}`;
  const other = await token(client.client_id, client.client_secret, { audience: issuer }).catch(() => null);
  for (const bad of [forged, `${h}.${p}.`, "not.a.token", other, undefined]) {
    if (bad === null) continue; // the origin refused that audience outright: also fine
    const res = await call(bad);
    assert.equal(res.status, 401, `${bad}: ${await res.clone().text()}`);
    assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer/);
    assert.match(res.headers.get("content-type") ?? "", /^application\/problem\+json/);
  }
});

test("revoking the client stops its outstanding tokens within the refresh window", async () => {
  const tok = await token(client.client_id, client.client_secret);
  assert.equal((await call(tok)).status, 200);
  await ok(await origin.admin("DELETE", `/admin/v1/oauth/clients/${client.client_id}`), 204);
  await eventually(async () => (await call(tok)).status === 401 || "still admitted", "the revoked client's token being refused");
  const res = await call(tok);
  const problem = await res.json();
  assert.match(problem.type, /revoked-credential$/);
  assert.match(problem.detail, /revoked/);
  // And the origin issues it no new token.
  const again = await fetch(`${origin.url}/oauth/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "client_credentials", client_id: client.client_id, client_secret: client.client_secret }),
  });
  assert.equal(again.status, 401);
  assert.equal((await again.json()).error, "invalid_client");
});
