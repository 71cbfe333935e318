// mTLS at the edge in workerd: an API with `{"type":"mtls"}` admits a call whose
// `request.cf.tlsClientAuth` (set by Cloudflare after verifying the client certificate;
// injected here through Miniflare's dispatchFetch) carries a fingerprint a consumer
// registered, and refuses with 401 problem+json a missing, unverified, unknown or revoked
// certificate. Key-authenticated APIs are untouched.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startOrigin, startUpstream } from "./lib/procs.mjs";
import { startEdge } from "./lib/edge.mjs";

const FP = "3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b";
const OTHER_FP = "0".repeat(63) + "1";
let origin, upstream, edge, consumer, cert;

async function ok(res, status = 200) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  return res.body;
}

const tls = (overrides = {}) => ({
  tlsClientAuth: { certPresented: "1", certVerified: "SUCCESS", certFingerprintSHA256: FP, ...overrides },
});
const call = (cf, path = "/secure/hello") => edge.dispatch(`${edge.url}${path}`, cf === undefined ? {} : { cf });

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
  const api = await ok(await origin.admin("POST", "/admin/v1/apis", { name: "secure", base_path: "/secure", upstream_url: upstream.url, auth: { type: "mtls" } }), 201);
  consumer = await ok(await origin.admin("POST", "/admin/v1/consumers", { name: "Machine", email: "m2m@acme.example" }), 201);
  cert = await ok(await origin.admin("POST", `/admin/v1/consumers/${consumer.id}/certificates`, { fingerprint_sha256: FP, api_id: api.id }), 201);
  await eventually(async () => (await call(tls())).status === 200 || "not yet", "the edge admitting the certificate");
});

after(async () => {
  await edge?.stop();
  await upstream?.stop();
  await origin?.cleanup();
});

test("a verified, registered certificate reaches the upstream as its consumer", async () => {
  const res = await call(tls(), "/secure/hello?x=1");
  assert.equal(res.status, 200);
  const seen = await res.json();
  assert.equal(seen.headers["x-tollgate-consumer-id"], consumer.id);
  assert.equal(seen.headers["x-tollgate-key-id"], cert.id);
  assert.equal(seen.query, "x=1");
  // Upper case and colons, as some tools print it, are the same certificate.
  const colons = FP.toUpperCase().match(/../g).join(":");
  assert.equal((await call(tls({ certFingerprintSHA256: colons }))).status, 200);
});

test("no certificate, an unverified one or an unknown one is a 401 problem", async () => {
  for (const cf of [undefined, {}, { tlsClientAuth: { certPresented: "0", certVerified: "NONE" } }]) {
    const p = await problemOf(await call(cf), 401);
    assert.match(p.type, /missing-credential$/);
    assert.match(p.detail, /client certificate/);
  }
  const failed = await problemOf(await call(tls({ certVerified: "FAILED:self signed certificate" })), 401);
  assert.match(failed.type, /invalid-credential$/);
  assert.match(failed.detail, /not verified/);
  const unknown = await problemOf(await call(tls({ certFingerprintSHA256: OTHER_FP })), 401);
  assert.match(unknown.detail, /no consumer registered/);
  const garbage = await problemOf(await call(tls({ certFingerprintSHA256: "not-a-fingerprint" })), 401);
  assert.match(garbage.detail, /fingerprint/);
  // A client-sent header cannot stand in for the certificate.
  const spoof = await edge.dispatch(`${edge.url}/secure/hello`, { headers: { "cf-client-cert-sha256": FP } });
  await problemOf(spoof, 401);
});

test("a revoked certificate stops within the refresh window", async () => {
  const del = await fetch(`${origin.url}/admin/v1/consumers/${consumer.id}/certificates/${cert.id}`, {
    method: "DELETE",
    headers: { authorization: `Bearer ${origin.adminToken}` },
  });
  assert.equal(del.status, 204);
  await eventually(async () => (await call(tls())).status === 401 || "still admitted", "the revocation reaching the edge", 5000);
  const p = await problemOf(await call(tls()), 401);
  assert.match(p.type, /revoked-credential$/);
});
