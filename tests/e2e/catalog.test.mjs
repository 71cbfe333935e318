// API versions at the edge in workerd: deprecated versions carry Deprecation/Sunset/Link,
// retired ones answer 410, drafts 404, the bare base path reaches the newest published
// version, and an API without versions routes exactly as before.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startOrigin, startUpstream } from "./lib/procs.mjs";
import { startEdge } from "./lib/edge.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const petstore = readFileSync(path.join(root, "../shared/testdata/openapi/v3.0/petstore.yaml"));
const SUNSET = "2099-01-01T00:00:00Z";
const GUIDE = "https://docs.example.com/pets-v2";
let origin, upstream, edge;

async function ok(res, status = 200) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  return res.body;
}

async function importVersion(apiId, version, upstreamUrl) {
  const query = new URLSearchParams({ version, ...(upstreamUrl ? { upstream_url: upstreamUrl } : {}) });
  const res = await fetch(`${origin.url}/admin/v1/apis/${apiId}/versions?${query}`, {
    method: "POST",
    headers: { authorization: `Bearer ${origin.adminToken}`, "content-type": "application/yaml" },
    body: petstore,
  });
  assert.equal(res.status, 201, await res.clone().text());
  return res.json();
}

const step = (apiId, version, action, body = {}) => origin.admin("POST", `/admin/v1/apis/${apiId}/versions/${version}/${action}`, body);
const createApi = async (name) =>
  ok(await origin.admin("POST", "/admin/v1/apis", { name, base_path: `/${name}`, upstream_url: upstream.url, auth: { type: "none" } }), 201);

async function problemOf(res, status) {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${await res.clone().text()}`);
  assert.match(res.headers.get("content-type") ?? "", /^application\/problem\+json/);
  const body = await res.json();
  assert.equal(body.status, status);
  return body;
}

before(async () => {
  upstream = await startUpstream();
  origin = await startOrigin();
  edge = await startEdge({ originUrl: origin.url, edgeSecret: origin.edgeSecret, refreshSecs: 1 });
  const pets = await createApi("pets");
  await importVersion(pets.id, "1.0.0", `${upstream.url}/one`);
  await importVersion(pets.id, "2.0.0", `${upstream.url}/two`);
  await importVersion(pets.id, "3.0.0");
  await ok(await step(pets.id, "1.0.0", "publish"));
  await ok(await step(pets.id, "2.0.0", "publish"));
  await ok(await step(pets.id, "1.0.0", "deprecate", { sunset: SUNSET, migration_url: GUIDE }));
  const old = await createApi("old");
  await importVersion(old.id, "1.4.0");
  await importVersion(old.id, "2.0.0");
  for (const [v, action] of [["1.4.0", "publish"], ["1.4.0", "deprecate"], ["1.4.0", "retire"], ["2.0.0", "publish"]]) {
    await ok(await step(old.id, v, action, { sunset: SUNSET, migration_url: "https://docs.example.com/old" }));
  }
  const drafty = await createApi("drafty");
  await importVersion(drafty.id, "1.0.0");
  await createApi("plain");
  // Wait until the edge has the last change.
  const deadline = Date.now() + 10000;
  while (Date.now() < deadline && (await fetch(`${edge.url}/plain/ready`)).status !== 200) await new Promise((r) => setTimeout(r, 100));
});

after(async () => {
  await edge?.stop();
  await upstream?.stop();
  await origin?.cleanup();
});

const call = (p) => fetch(`${edge.url}${p}`);

test("a deprecated version's answers carry Deprecation, Sunset and Link", async () => {
  const res = await call("/pets/v1/dogs?x=1");
  assert.equal(res.status, 200);
  const seen = await res.json();
  assert.equal(seen.path, "/one/dogs", "the version's own upstream, without the /v1 segment");
  assert.equal(seen.query, "x=1");
  assert.match(res.headers.get("deprecation") ?? "", /^@\d{10}$/);
  const deprecatedAt = Number(res.headers.get("deprecation").slice(1));
  assert.ok(Math.abs(deprecatedAt - Date.now() / 1000) < 600, `deprecated at ${deprecatedAt}`);
  assert.equal(res.headers.get("sunset"), new Date(SUNSET).toUTCString());
  assert.equal(res.headers.get("link"), `<${GUIDE}>; rel="deprecation"`);
});

test("the bare base path reaches the newest published version, without deprecation headers", async () => {
  for (const p of ["/pets/dogs", "/pets/v2/dogs"]) {
    const res = await call(p);
    assert.equal(res.status, 200);
    assert.equal((await res.json()).path, "/two/dogs");
    assert.equal(res.headers.get("deprecation"), null);
    assert.equal(res.headers.get("sunset"), null);
  }
});

test("a retired version is 410 problem+json naming what to migrate to", async () => {
  const p = await problemOf(await call("/old/v1/anything"), 410);
  assert.match(p.type, /gone/);
  assert.match(p.detail, /1\.4\.0/);
  assert.match(p.detail, /`\/old\/v2`/);
  assert.match(p.detail, /docs\.example\.com\/old/);
  const res = await call("/old/thing");
  assert.equal(res.status, 200);
  assert.equal((await res.json()).path, "/thing");
});

test("draft versions and unknown majors are not routable: 404", async () => {
  let p = await problemOf(await call("/pets/v3/dogs"), 404);
  assert.match(p.detail, /available: v1, v2/);
  p = await problemOf(await call("/pets/v7"), 404);
  await problemOf(await call("/drafty/v1/x"), 404);
  // Only drafts: the bare path still routes as before the import.
  const res = await call("/drafty/x");
  assert.equal(res.status, 200);
  assert.equal((await res.json()).path, "/x");
});

test("an API without versions routes exactly as before", async () => {
  const res = await call("/plain/v1/x?q=2");
  assert.equal(res.status, 200);
  const seen = await res.json();
  assert.equal(seen.path, "/v1/x");
  assert.equal(seen.query, "q=2");
  assert.equal(res.headers.get("deprecation"), null);
});
