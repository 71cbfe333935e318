// The walking skeleton end to end: origin (real binary) + demo upstream + edge in workerd.
// APIs, consumers and keys are made through the admin API, then called through the edge.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import http from "node:http";
import { startOrigin, startUpstream, freePort } from "./lib/procs.mjs";
import { startEdge } from "./lib/edge.mjs";

const REFRESH_SECS = 2;
let origin, upstream, edge, echoApi, openApi, otherApi, deadApi, consumer, key, otherKey;

async function problemOf(res, status) {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${await res.clone().text()}`);
  assert.match(res.headers.get("content-type") ?? "", /^application\/problem\+json/);
  const body = await res.json();
  for (const member of ["type", "title", "status", "detail"]) assert.ok(body[member] !== undefined, `problem lacks ${member}`);
  assert.equal(body.status, status);
  return body;
}

async function created(res) {
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

before(async () => {
  upstream = await startUpstream();
  origin = await startOrigin();
  edge = await startEdge({ originUrl: origin.url, edgeSecret: origin.edgeSecret, refreshSecs: REFRESH_SECS });
  const deadPort = await freePort();
  echoApi = await created(await origin.admin("POST", "/admin/v1/apis", { name: "echo", base_path: "/echo", upstream_url: `${upstream.url}/v1` }));
  openApi = await created(await origin.admin("POST", "/admin/v1/apis", { name: "open", base_path: "/open", upstream_url: upstream.url, auth: { type: "none" } }));
  otherApi = await created(await origin.admin("POST", "/admin/v1/apis", { name: "other", base_path: "/other", upstream_url: upstream.url }));
  deadApi = await created(await origin.admin("POST", "/admin/v1/apis", { name: "dead", base_path: "/dead", upstream_url: `http://127.0.0.1:${deadPort}` }));
  consumer = await created(await origin.admin("POST", "/admin/v1/consumers", { name: "Ada", email: "ada@example.com" }));
  key = await created(await origin.admin("POST", "/admin/v1/keys", { consumer_id: consumer.id, api_id: echoApi.id }));
  otherKey = await created(await origin.admin("POST", "/admin/v1/keys", { consumer_id: consumer.id, api_id: deadApi.id }));
});

after(async () => {
  await edge?.stop();
  await upstream?.stop();
  await origin?.cleanup();
});

const call = (path, init = {}) => fetch(`${edge.url}${path}`, init);
const withKey = (k, headers = {}) => ({ authorization: `Bearer ${k}`, ...headers });

test("a keyed GET reaches the upstream with path, query and headers intact", async () => {
  const res = await call("/echo/hello/world?x=1&y=a%20b&y=2", {
    headers: withKey(key.key, { "x-custom": "kept", "x-forwarded-for": "6.6.6.6", "x-tollgate-consumer-id": "spoofed" }),
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("x-upstream"), "demo");
  const seen = await res.json();
  assert.equal(seen.method, "GET");
  assert.equal(seen.path, "/v1/hello/world");
  assert.equal(seen.query, "x=1&y=a%20b&y=2");
  assert.equal(seen.headers["x-custom"], "kept");
  assert.equal(seen.headers["authorization"], undefined, "the credential must not reach the upstream");
  assert.ok(!(seen.headers["x-forwarded-for"] ?? "").includes("6.6.6.6"), "client X-Forwarded-For must not be trusted");
  assert.equal(seen.headers["x-tollgate-consumer-id"], consumer.id);
  assert.equal(seen.headers["x-forwarded-proto"], "http");
});

test("X-API-Key is accepted and stripped", async () => {
  const res = await call("/echo/k", { headers: { "x-api-key": key.key } });
  assert.equal(res.status, 200);
  const seen = await res.json();
  assert.equal(seen.headers["x-api-key"], undefined);
  const listed = await origin.admin("GET", `/admin/v1/keys/${key.id}`);
  assert.match(listed.body.last_used_at ?? "", /^20\d\d-/, "a call through the edge shows as the key's last use");
});

test("POST bodies arrive intact, including 1 MB ones", async () => {
  const small = JSON.stringify({ hello: "wörld", n: [1, 2, 3] });
  let res = await call("/echo/items", { method: "POST", headers: withKey(key.key, { "content-type": "application/json" }), body: small });
  assert.equal(res.status, 200);
  let seen = await res.json();
  assert.equal(seen.method, "POST");
  assert.equal(seen.body, small);
  assert.equal(seen.headers["content-type"], "application/json");

  const big = randomBytes(1024 * 1024);
  res = await call("/echo/upload", { method: "PUT", headers: withKey(key.key, { "content-type": "application/octet-stream" }), body: big });
  assert.equal(res.status, 200);
  seen = await res.json();
  assert.equal(seen.body_bytes, big.length);
  assert.equal(seen.body_sha256, createHash("sha256").update(big).digest("hex"));
});

test("missing, malformed and unknown keys get 401 problem+json", async () => {
  let p = await problemOf(await call("/echo/x"), 401);
  assert.match(p.type, /missing-credential/);
  p = await problemOf(await call("/echo/x", { headers: { authorization: "Basic dTpw" } }), 401);
  assert.match(p.detail, /Bearer/);
  p = await problemOf(await call("/echo/x", { headers: withKey("tg_definitely-not-a-key") }), 401);
  assert.match(p.type, /invalid-credential/);
  // Right shape and checksum, but never issued: the origin is asked once, then the answer is cached.
  const forged = key.key.slice(0, 3) + "A".repeat(32);
  p = await problemOf(await call("/echo/x", { headers: withKey(forged + checksum(forged.slice(3))) }), 401);
  assert.match(p.type, /invalid-credential/);
});

test("a flood of one unknown key reaches the origin once (single-flight + negative cache)", async () => {
  const unknown = key.key.slice(0, 3) + "C".repeat(32);
  const full = unknown + checksum(unknown.slice(3));
  const hash = createHash("sha256").update(full).digest("hex");
  const answers = await Promise.all(Array.from({ length: 40 }, () => call("/echo/flood", { headers: withKey(full) })));
  for (const res of answers) await problemOf(res, 401);
  for (let i = 0; i < 20; i++) await problemOf(await call("/echo/flood", { headers: withKey(full) }), 401);
  const lookups = origin.log().split(`/edge/v1/keys/${hash}`).length - 1;
  assert.ok(lookups >= 1, "the origin was never asked");
  console.log(`# unknown-key flood: ${lookups} origin look-ups for 60 requests`);
  // Concurrent requests share one look-up (single-flight); later ones hit the cache.
  assert.equal(lookups, 1, `origin asked ${lookups} times`);
  const before = lookups;
  for (let i = 0; i < 20; i++) await problemOf(await call("/echo/flood", { headers: withKey(full) }), 401);
  assert.equal(origin.log().split(`/edge/v1/keys/${hash}`).length - 1, before, "cached negative answer was not used");
});

test("hop-by-hop headers, and those named in Connection, do not reach the upstream", async () => {
  const { port } = new URL(edge.url);
  const seen = await new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        path: "/echo/hop",
        headers: {
          authorization: `Bearer ${key.key}`,
          connection: "keep-alive, x-hop-secret",
          "x-hop-secret": "must-not-pass",
          "proxy-authorization": "Basic c2VjcmV0",
          "x-end-to-end": "passes",
        },
      },
      (res) => {
        let body = "";
        res.on("data", (d) => (body += d)).on("end", () => resolve(JSON.parse(body)));
      },
    );
    req.on("error", reject);
    req.end();
  });
  assert.equal(seen.headers["x-end-to-end"], "passes");
  assert.equal(seen.headers["x-hop-secret"], undefined);
  assert.equal(seen.headers["proxy-authorization"], undefined);
});

test("a key for one API cannot call another: 403", async () => {
  const p = await problemOf(await call("/other/x", { headers: withKey(otherKey.key) }), 403);
  assert.match(p.type, /not-entitled/);
});

test("an unknown path is 404 problem+json", async () => {
  const p = await problemOf(await call("/nowhere/at/all", { headers: withKey(key.key) }), 404);
  assert.match(p.detail, /nowhere/);
  await problemOf(await call("/", {}), 404);
});

test("a pass-through route needs no key", async () => {
  const res = await call("/open/ping?q=1");
  assert.equal(res.status, 200);
  assert.equal((await res.json()).path, "/ping");
});

test("an upstream that is down gives 502 problem+json with a retry hint", async () => {
  const res = await call("/dead/x", { headers: withKey(otherKey.key) });
  const p = await problemOf(res, 502);
  assert.match(p.type, /upstream-unreachable/);
  assert.ok(Number(res.headers.get("retry-after")) > 0);
});

test("oversized headers get 431 and oversized bodies 413", async () => {
  await problemOf(await call("/echo/x", { headers: withKey(key.key, { "x-big": "a".repeat(40 * 1024) }) }), 431);
  // Declare 11 MiB but send only the first bytes: the edge must refuse on the declared
  // length without waiting for (or buffering) the body.
  const { port } = new URL(edge.url);
  const answer = await new Promise((resolve, reject) => {
    const req = http.request({
      host: "127.0.0.1",
      port,
      method: "POST",
      path: "/echo/upload",
      headers: { authorization: `Bearer ${key.key}`, "content-type": "application/octet-stream", "content-length": 11 * 1024 * 1024 },
    });
    req.on("response", (res) => {
      let body = "";
      res.on("data", (d) => (body += d)).on("end", () => {
        resolve({ status: res.statusCode, type: res.headers["content-type"], body: JSON.parse(body) });
        req.destroy();
      });
    });
    req.on("error", (e) => (e.code === "ECONNRESET" || e.code === "EPIPE" ? undefined : reject(e)));
    req.write(Buffer.alloc(64 * 1024, 1));
  });
  assert.equal(answer.status, 413);
  assert.match(answer.type, /^application\/problem\+json/);
  assert.match(answer.body.detail, /limit/);
});

test("the edge API refuses consumer keys and unsigned calls", async () => {
  for (const headers of [{}, withKey(key.key), { "x-tollgate-edge-signature": "t=1,s=00" }]) {
    const res = await fetch(`${origin.url}/edge/v1/snapshot`, { headers });
    await problemOf(res, 401);
  }
});

test("a revoked key stops working within the refresh window", async () => {
  const k = await created(await origin.admin("POST", "/admin/v1/keys", { consumer_id: consumer.id, api_id: echoApi.id }));
  assert.equal((await call("/echo/x", { headers: withKey(k.key) })).status, 200);
  const del = await origin.admin("DELETE", `/admin/v1/keys/${k.id}`);
  assert.equal(del.status, 204);
  const started = Date.now();
  let status = 200;
  while (status === 200 && Date.now() - started < REFRESH_SECS * 1000 + 3000) {
    status = (await call("/echo/x", { headers: withKey(k.key) })).status;
    if (status === 200) await new Promise((r) => setTimeout(r, 100));
  }
  const elapsed = (Date.now() - started) / 1000;
  assert.equal(status, 401, `still ${status} after ${elapsed}s`);
  assert.ok(elapsed <= REFRESH_SECS + 1, `revocation took ${elapsed}s, window is ${REFRESH_SECS}s`);
  const p = await problemOf(await call("/echo/x", { headers: withKey(k.key) }), 401);
  assert.match(p.type, /revoked-credential/);
});

test("an upstream credential set on the origin is added by the edge, replacing the client's", async () => {
  const put = await fetch(`${origin.url}/admin/v1/apis/${openApi.id}/upstream-auth`, {
    method: "PUT",
    headers: { authorization: `Bearer ${origin.adminToken}`, "content-type": "application/json" },
    body: JSON.stringify({ header: "X-Upstream-Key", value: "sealed-at-rest" }),
  });
  assert.equal(put.status, 200);
  const started = Date.now();
  let seen;
  do {
    seen = await (await call("/open/creds", { headers: { "x-upstream-key": "spoofed" } })).json();
    if (seen.headers["x-upstream-key"] !== "sealed-at-rest") await new Promise((r) => setTimeout(r, 100));
  } while (seen.headers["x-upstream-key"] !== "sealed-at-rest" && Date.now() - started < (REFRESH_SECS + 1) * 1000);
  assert.equal(seen.headers["x-upstream-key"], "sealed-at-rest");
});

test("with the origin stopped, a known key still gets 200", async () => {
  assert.equal((await call("/echo/warm", { headers: withKey(key.key) })).status, 200);
  await origin.stop();
  try {
    await new Promise((r) => setTimeout(r, REFRESH_SECS * 1000 + 200));
    const res = await call("/echo/while-origin-down", { headers: withKey(key.key) });
    assert.equal(res.status, 200);
    assert.equal((await res.json()).path, "/v1/while-origin-down");
    // A key the edge has never seen cannot be verified now: 503 with a retry hint, not 500.
    const unseen = key.key.slice(0, 3) + "B".repeat(32);
    const p = await problemOf(await call("/echo/x", { headers: withKey(unseen + checksum(unseen.slice(3))) }), 503);
    assert.ok(p.retry_after > 0);
  } finally {
    await origin.restart();
  }
});

// The key checksum (CRC32 of the 32-character body, 6 base62 digits), as core computes it.
function checksum(body) {
  let crc = 0xffffffff;
  for (const b of Buffer.from(body)) {
    crc ^= b;
    for (let i = 0; i < 8; i++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  let n = (crc ^ 0xffffffff) >>> 0;
  const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  let out = "";
  for (let i = 0; i < 6; i++) {
    out = alphabet[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}
