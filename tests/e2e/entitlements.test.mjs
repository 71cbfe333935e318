// Plans and subscriptions at the edge in workerd: a key's plan restricts major versions
// and operations (method + path template, or an OpenAPI operationId resolved by the
// origin) with 403 problem+json naming what is missing; its features reach the upstream
// in x-tollgate-features; a plan change applies and a canceled subscription's key stops
// within the refresh window, even though the edge has the key record cached.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startOrigin, startUpstream } from "./lib/procs.mjs";
import { startEdge } from "./lib/edge.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const petstore = readFileSync(path.join(root, "../shared/testdata/openapi/v3.0/petstore.yaml"));
let origin, upstream, edge, api, basic, pro, sub, key;

async function ok(res, status = 200) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  return res.body;
}

async function publishVersion(apiId, version) {
  const res = await fetch(`${origin.url}/admin/v1/apis/${apiId}/versions?version=${version}`, {
    method: "POST",
    headers: { authorization: `Bearer ${origin.adminToken}`, "content-type": "application/yaml" },
    body: petstore,
  });
  assert.equal(res.status, 201, await res.clone().text());
  await ok(await origin.admin("POST", `/admin/v1/apis/${apiId}/versions/${version}/publish`, {}));
}

const call = (p, method = "GET") => fetch(`${edge.url}${p}`, { method, headers: { authorization: `Bearer ${key}` } });

async function problemOf(res, status) {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${await res.clone().text()}`);
  assert.match(res.headers.get("content-type") ?? "", /^application\/problem\+json/);
  const body = await res.json();
  assert.equal(body.status, status);
  return body;
}

async function eventually(check, what, ms = 8000) {
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
  api = await ok(await origin.admin("POST", "/admin/v1/apis", { name: "pets", base_path: "/pets", upstream_url: upstream.url }), 201);
  await publishVersion(api.id, "1.0.0");
  await publishVersion(api.id, "2.0.0");
  basic = await ok(await origin.admin("POST", "/admin/v1/plans", {
    name: "Basic", type: "free",
    entitlements: { versions: [1], operations: ["GET /pets", "showPetById"], features: ["bulk-export", "webhooks"] },
  }), 201);
  pro = await ok(await origin.admin("POST", "/admin/v1/plans", {
    name: "Pro", type: "paid", price: { currency: "EUR", amount_minor: 4900, interval: "month" },
    entitlements: { features: ["pro"] },
  }), 201);
  const consumer = await ok(await origin.admin("POST", "/admin/v1/consumers", { name: "Acme", email: "dev@acme.example" }), 201);
  sub = await ok(await origin.admin("POST", "/admin/v1/subscriptions", { consumer_id: consumer.id, api_id: api.id, plan_id: basic.id }), 201);
  key = (await ok(await origin.admin("POST", "/admin/v1/keys", { subscription_id: sub.id }), 201)).key;
  await eventually(async () => (await call("/pets/v1/pets")).status === 200 || "not yet", "the edge serving the key");
});

after(async () => {
  await edge?.stop();
  await upstream?.stop();
  await origin?.cleanup();
});

test("entitled calls pass and carry the plan's features to the upstream", async () => {
  const res = await call("/pets/v1/pets?limit=2");
  assert.equal(res.status, 200);
  const seen = await res.json();
  assert.equal(seen.path, "/pets");
  assert.equal(seen.headers["x-tollgate-features"], "bulk-export,webhooks");
  assert.equal(seen.headers["x-tollgate-plan-id"], basic.id);
  // `showPetById` is resolved from the published document into GET /pets/{petId}.
  assert.equal((await call("/pets/v1/pets/42")).status, 200);
  assert.equal((await call("/pets/pets/42")).status, 403, "the bare path reaches v2, which the plan lacks");
});

test("an operation outside the plan is 403 naming it", async () => {
  const body = await problemOf(await call("/pets/v1/pets", "POST"), 403);
  assert.match(body.type, /not-entitled$/);
  assert.equal(body.field, "operation");
  assert.match(body.detail, /`POST \/pets`/);
  assert.match(body.detail, /Basic/);
});

test("a version outside the plan is 403 naming it", async () => {
  const body = await problemOf(await call("/pets/v2/pets"), 403);
  assert.equal(body.field, "version");
  assert.match(body.detail, /version v2/);
  assert.match(body.detail, /includes v1/);
});

test("a plan change applies and a canceled subscription's key stops within the refresh window", async () => {
  await ok(await origin.admin("POST", `/admin/v1/subscriptions/${sub.id}/change-plan`, { plan_id: pro.id }));
  await eventually(async () => (await call("/pets/v2/pets")).status === 200 || "still refused", "the upgrade");
  const seen = await (await call("/pets/v2/pets", "POST")).json();
  assert.equal(seen.headers["x-tollgate-features"], "pro");
  const canceledAt = Date.now();
  await ok(await origin.admin("POST", `/admin/v1/subscriptions/${sub.id}/cancel`, {}));
  await eventually(async () => (await call("/pets/v2/pets")).status === 403 || "still served", "the cancellation", 3000);
  assert.ok(Date.now() - canceledAt < 3000, "stopped within the refresh window (1 s here) plus slack");
  const body = await problemOf(await call("/pets/v1/pets"), 403);
  assert.equal(body.field, "subscription");
  assert.match(body.detail, new RegExp(sub.id));
});
