// API policies at the edge in workerd, against a node upstream that echoes what it
// received (method, path, query, headers, body length) and echoes WebSocket messages:
// header/path/query transforms both ways, identity headers that clients cannot spoof, an
// identity JWT that verifies against the edge's JWKS with node:crypto, CORS preflights
// answered before authentication, 405 with Allow, 413 (declared and chunked) and 431,
// IP allow/deny, WebSocket pass-through only when enabled, and raw invalid header bytes
// sent over TCP answered 400, never 500.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import { createPublicKey, verify, randomBytes } from "node:crypto";
import { WebSocket, WebSocketServer } from "ws";
import { startOrigin } from "./lib/procs.mjs";
import { startEdge } from "./lib/edge.mjs";

const APP = "https://app.example.com";
let origin, upstream, edge, api, consumer, key, guarded;

function startEchoUpstream() {
  const server = http.createServer((req, res) => {
    let length = 0;
    req.on("data", (c) => (length += c.length));
    req.on("end", () => {
      const url = new URL(req.url, "http://x");
      res.writeHead(200, { "content-type": "application/json", "x-upstream-secret": "s3cr3t", "x-trace": "t-1" });
      res.end(JSON.stringify({ method: req.method, path: url.pathname, query: url.search.slice(1), headers: req.headers, length }));
    });
  });
  const wss = new WebSocketServer({ server });
  wss.on("connection", (socket, req) => {
    socket.send(JSON.stringify({ path: req.url, consumer: req.headers["x-tollgate-consumer-id"] ?? null }));
    socket.on("message", (m) => socket.send(`echo:${m}`));
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      resolve({ url: `http://127.0.0.1:${port}`, stop: () => new Promise((r) => { wss.close(); server.closeAllConnections(); server.close(r); }) });
    });
  });
}

async function ok(res, status = 200) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  return res.body;
}

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

const call = (p, init = {}) => fetch(`${edge.url}${p}`, { ...init, headers: { authorization: `Bearer ${key}`, ...(init.headers ?? {}) } });

before(async () => {
  upstream = await startEchoUpstream();
  origin = await startOrigin();
  edge = await startEdge({
    originUrl: origin.url, edgeSecret: origin.edgeSecret, refreshSecs: 1,
    vars: { IDENTITY_SIGNING_KEY: randomBytes(32).toString("base64") },
  });
  api = await ok(await origin.admin("POST", "/admin/v1/apis", { name: "pol", base_path: "/pol", upstream_url: upstream.url }), 201);
  consumer = await ok(await origin.admin("POST", "/admin/v1/consumers", { name: "Ada", email: "ada@example.com" }), 201);
  key = (await ok(await origin.admin("POST", "/admin/v1/keys", { consumer_id: consumer.id, api_id: api.id, scopes: ["pets:read", "pets:write"] }), 201)).key;
  await ok(await origin.admin("PUT", `/admin/v1/apis/${api.id}/policies`, {
    request_headers: { set: { "X-Env": "prod" }, remove: ["x-remove-me"], rename: { "x-old": "x-new" } },
    response_headers: { remove: ["x-upstream-secret"], add: { "x-edge": "tollgate" } },
    path_rewrite: { from: "/v1/*", to: "/api/v1/*" },
    query: { set: { source: "edge" }, remove: ["debug"], rename: { q: "query" } },
    identity: { jwt: true },
    cors: { allowed_origins: [APP], allowed_methods: ["GET", "PUT"], allowed_headers: ["x-request-id"], expose_headers: ["x-edge"], max_age_secs: 600 },
    methods: ["GET", "PUT", "POST"],
    limits: { max_header_bytes: 4096, max_body_bytes: 1024 },
    websocket: true,
  }));
  guarded = await ok(await origin.admin("POST", "/admin/v1/apis", { name: "guarded", base_path: "/guarded", upstream_url: upstream.url, auth: { type: "none" } }), 201);
  await ok(await origin.admin("PUT", `/admin/v1/apis/${guarded.id}/policies`, { ip: { allow: ["203.0.113.0/24", "2001:db8::/32"], deny: ["203.0.113.66"] } }));
  await eventually(async () => (await call("/pol/v1/ready")).status === 200 || "not yet", "the edge serving the API with policies");
  await eventually(async () => (await fetch(`${edge.url}/guarded/x`, { headers: { "cf-connecting-ip": "203.0.113.5" } })).status === 200 || "not yet", "the guarded API");
});

after(async () => {
  await edge?.stop();
  await upstream?.stop();
  await origin?.cleanup();
});

test("request transforms reach the upstream and response transforms reach the client", async () => {
  const res = await call("/pol/v1/items?q=hello&debug=1&keep=1", {
    headers: { "x-old": "1", "x-remove-me": "x", "x-env": "client", "x-tollgate-consumer-id": "con_spoofed", "x-tollgate-scopes": "admin" },
  });
  assert.equal(res.status, 200);
  const seen = await res.json();
  assert.equal(seen.path, "/api/v1/items");
  assert.equal(seen.query, "query=hello&keep=1&source=edge");
  assert.equal(seen.headers["x-env"], "prod");
  assert.equal(seen.headers["x-new"], "1");
  assert.equal(seen.headers["x-old"], undefined);
  assert.equal(seen.headers["x-remove-me"], undefined);
  assert.equal(seen.headers.authorization, undefined, "the credential never reaches the upstream");
  assert.equal(res.headers.get("x-upstream-secret"), null);
  assert.equal(res.headers.get("x-edge"), "tollgate");
  assert.equal(res.headers.get("x-trace"), "t-1");
  // Paths outside the rewrite pass unchanged; a smuggled dot segment never leaves the edge.
  assert.equal((await (await call("/pol/other")).json()).path, "/other");
  await problemOf(await call("/pol/v1/a%2e%2E%2fb"), 400);
});

test("identity headers are the edge's, not the client's", async () => {
  const seen = await (await call("/pol/v1/me", { headers: { "x-tollgate-consumer-id": "con_spoofed", "x-tollgate-plan-id": "plan_gold", "x-tollgate-identity": "forged" } })).json();
  assert.equal(seen.headers["x-tollgate-consumer-id"], consumer.id);
  assert.equal(seen.headers["x-tollgate-plan-id"], undefined, "the key has no plan");
  assert.equal(seen.headers["x-tollgate-scopes"], "pets:read pets:write");
  assert.notEqual(seen.headers["x-tollgate-identity"], "forged");
});

test("the identity JWT verifies against the edge's JWKS with node:crypto", async () => {
  const seen = await (await call("/pol/v1/me")).json();
  const token = seen.headers["x-tollgate-identity"];
  const [h, p, s] = token.split(".");
  const jwks = await (await fetch(`${edge.url}/.tollgate/identity-jwks.json`)).json();
  const header = JSON.parse(Buffer.from(h, "base64url"));
  assert.equal(header.alg, "EdDSA");
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  assert.ok(jwk, "the token's kid is in the key set");
  assert.equal(jwk.d, undefined, "the private half is never served");
  const publicKey = createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x }, format: "jwk" });
  assert.ok(verify(null, Buffer.from(`${h}.${p}`), publicKey, Buffer.from(s, "base64url")), "signature verifies");
  const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, "base64url")), sub: "con_evil" })).toString("base64url");
  assert.ok(!verify(null, Buffer.from(`${h}.${forged}`), publicKey, Buffer.from(s, "base64url")), "edited claims do not verify");
  const claims = JSON.parse(Buffer.from(p, "base64url"));
  assert.equal(claims.sub, consumer.id);
  assert.equal(claims.aud, api.id);
  assert.equal(claims.iss, "tollgate-edge");
  assert.equal(claims.scope, "pets:read pets:write");
  assert.equal(claims.exp - claims.iat, 60);
  assert.ok(Math.abs(claims.iat - Date.now() / 1000) < 30);
});

test("CORS preflights are answered before authentication, or refused with 403", async () => {
  const preflight = (origin, method, headers) => fetch(`${edge.url}/pol/v1/items`, {
    method: "OPTIONS",
    headers: { origin, "access-control-request-method": method, ...(headers ? { "access-control-request-headers": headers } : {}) },
  });
  const yes = await preflight(APP, "PUT", "X-Request-Id, content-type");
  assert.equal(yes.status, 204);
  assert.equal(yes.headers.get("access-control-allow-origin"), APP);
  assert.equal(yes.headers.get("access-control-allow-methods"), "GET, PUT");
  assert.equal(yes.headers.get("access-control-allow-headers"), "x-request-id, content-type");
  assert.equal(yes.headers.get("access-control-max-age"), "600");
  assert.match(yes.headers.get("vary"), /Origin/);
  assert.match((await problemOf(await preflight("https://evil.example", "GET"), 403)).detail, /evil\.example/);
  assert.match((await problemOf(await preflight(APP, "DELETE"), 403)).detail, /DELETE/);
  assert.match((await problemOf(await preflight(APP, "GET", "x-secret"), 403)).detail, /x-secret/);
  // Actual answers, including the edge's own problems, carry the CORS headers.
  const actual = await call("/pol/v1/items", { headers: { origin: APP } });
  assert.equal(actual.headers.get("access-control-allow-origin"), APP);
  assert.equal(actual.headers.get("access-control-expose-headers"), "x-edge");
  assert.match(actual.headers.get("vary"), /Origin/);
  const unauthorised = await fetch(`${edge.url}/pol/v1/items`, { headers: { origin: APP } });
  await problemOf(unauthorised.clone(), 401);
  assert.equal(unauthorised.headers.get("access-control-allow-origin"), APP);
  const foreign = await call("/pol/v1/items", { headers: { origin: "https://evil.example" } });
  assert.equal(foreign.headers.get("access-control-allow-origin"), null);
});

test("methods outside the allow-list are 405 with Allow", async () => {
  const res = await call("/pol/v1/items", { method: "DELETE" });
  const body = await problemOf(res, 405);
  assert.equal(res.headers.get("allow"), "GET, POST, PUT, HEAD");
  assert.equal(body.field, "method");
  assert.equal((await call("/pol/v1/items", { method: "HEAD" })).status, 200, "GET implies HEAD");
});

test("bodies and headers over the API's limits are 413 and 431, chunked bodies too", async () => {
  const small = await call("/pol/v1/upload", { method: "POST", body: "x".repeat(1024) });
  assert.equal((await small.json()).length, 1024);
  assert.match((await problemOf(await call("/pol/v1/upload", { method: "POST", body: "x".repeat(1025) }), 413)).detail, /1024/);
  const chunked = (n) => new ReadableStream({
    start(c) {
      for (let i = 0; i < n; i++) c.enqueue(new TextEncoder().encode("y".repeat(100)));
      c.close();
    },
  });
  const under = await call("/pol/v1/upload", { method: "POST", body: chunked(9), duplex: "half" });
  assert.equal(under.status, 200);
  assert.equal((await under.json()).length, 900, "a counted body still reaches the upstream whole");
  await problemOf(await call("/pol/v1/upload", { method: "POST", body: chunked(30), duplex: "half" }), 413);
  const big = await call("/pol/v1/items", { headers: { "x-filler": "f".repeat(5000) } });
  assert.match((await problemOf(big, 431)).detail, /4096/);
});

test("IP allow and deny lists by CIDR, v4 and v6", async () => {
  const from = (ip) => fetch(`${edge.url}/guarded/x`, { headers: ip ? { "cf-connecting-ip": ip } : {} });
  assert.equal((await from("203.0.113.5")).status, 200);
  assert.equal((await from("2001:db8::42")).status, 200);
  assert.match((await problemOf(await from("203.0.113.66"), 403)).type, /forbidden$/);
  assert.match((await problemOf(await from("198.51.100.7"), 403)).detail, /198\.51\.100\.7/);
  await problemOf(await from("2001:db9::1"), 403);
  await problemOf(await from(null), 403);
});

function openSocket(path, headers) {
  const ws = new WebSocket(`${edge.url.replace("http", "ws")}${path}`, { headers });
  return new Promise((resolve, reject) => {
    const messages = [];
    ws.on("message", (m) => messages.push(String(m)));
    ws.on("open", () => resolve({ ws, messages }));
    ws.on("unexpected-response", (_req, res) => reject(Object.assign(new Error(`refused ${res.statusCode}`), { status: res.statusCode })));
    ws.on("error", reject);
  });
}

test("WebSocket upgrades pass through where enabled and are refused elsewhere", async () => {
  const { ws, messages } = await openSocket("/pol/v1/socket", { authorization: `Bearer ${key}` });
  ws.send("ping");
  await eventually(async () => messages.length >= 2 || `${messages.length} messages`, "the echo");
  const hello = JSON.parse(messages[0]);
  assert.equal(hello.path, "/api/v1/socket?source=edge", "the rewrite and query edits apply to the upgrade too");
  assert.equal(hello.consumer, consumer.id);
  assert.equal(messages[1], "echo:ping");
  ws.close();
  await assert.rejects(openSocket("/guarded/socket", { "cf-connecting-ip": "203.0.113.5" }), (e) => e.status === 400);
  await assert.rejects(openSocket("/pol/v1/socket", {}), (e) => e.status === 401, "upgrades are authenticated");
});

function rawRequest(headerLine) {
  const { hostname, port } = new URL(edge.url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => {
      socket.write(Buffer.concat([
        Buffer.from(`GET /pol/v1/items HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Bearer ${key}\r\nConnection: close\r\n`),
        headerLine,
        Buffer.from("\r\n\r\n"),
      ]));
    });
    let data = "";
    // workerd keeps the connection open for a while: the head is enough.
    socket.on("data", (d) => {
      data += d.toString("latin1");
      if (data.includes("\r\n\r\n")) {
        socket.destroy();
        resolve(data);
      }
    });
    socket.on("end", () => resolve(data));
    socket.on("error", reject);
    socket.setTimeout(10000, () => socket.destroy(new Error("timeout")));
  });
}

test("invalid header bytes sent over raw TCP are 400, never 500", async () => {
  // workerd's parser refuses NUL and bare CR itself; other control characters reach the
  // worker, which answers a problem naming the header instead of failing later.
  for (const [bytes, ours] of [[[0x01], true], [[0x7f], true], [[0x1b], true], [[0x00], false], [[0x0d, 0x41], false]]) {
    const answer = await rawRequest(Buffer.concat([Buffer.from("X-Bad: a"), Buffer.from(bytes), Buffer.from("b")]));
    assert.match(answer, /^HTTP\/1\.1 400 /, `${JSON.stringify(bytes)}: ${answer.slice(0, 200)}`);
    if (ours) assert.match(answer, /application\/problem\+json/i, `${JSON.stringify(bytes)}: ${answer.slice(0, 200)}`);
  }
  const obsText = await rawRequest(Buffer.from([...Buffer.from("X-Latin: caf"), 0xe9]));
  const status = Number(/^HTTP\/1\.1 (\d+)/.exec(obsText)?.[1]);
  assert.ok(status === 200 || status === 400, `obs-text is forwarded or refused, never a 5xx: ${obsText.slice(0, 200)}`);
});

test("without IDENTITY_SIGNING_KEY, identity-JWT APIs fail closed with a 503 telling the operator", async () => {
  const bare = await startEdge({ originUrl: origin.url, edgeSecret: origin.edgeSecret, refreshSecs: 1 });
  try {
    await eventually(async () => (await fetch(`${bare.url}/guarded/x`, { headers: { "cf-connecting-ip": "203.0.113.5" } })).status === 200 || "not yet", "the second edge routing");
    const res = await fetch(`${bare.url}/pol/v1/items`, { headers: { authorization: `Bearer ${key}` } });
    const body = await problemOf(res, 503);
    assert.match(body.detail, /IDENTITY_SIGNING_KEY/);
    await problemOf(await fetch(`${bare.url}/.tollgate/identity-jwks.json`), 404);
  } finally {
    await bare.stop();
  }
});
