// JWT at the edge in workerd: tokens signed with node:crypto (RS256, PS256, ES256, EdDSA)
// verified against a JWKS served by a node server; forged, expired, misdirected and
// oversized tokens are 401 with a WWW-Authenticate challenge; a new kid at the JWKS works
// after one refetch and a flood of unknown kids refetches at most once per interval; a
// JWKS outage leaves the cached keys working; scopes guard operations (403).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { startOrigin, startUpstream } from "./lib/procs.mjs";
import { startEdge } from "./lib/edge.mjs";
import { makeKeys, jwkOf, signToken, rawToken, hmacToken, startJwksServer } from "./lib/jwks.mjs";

const ISS = "https://idp.test";
const AUD = "pets-api";
const REFETCH_SECS = 2;
let origin, upstream, edge, jwks, keys, rotated;

const now = () => Math.floor(Date.now() / 1000);
const claims = (extra = {}) => ({ iss: ISS, aud: AUD, sub: "con_jwt", exp: now() + 300, iat: now(), scope: "pets:read", ...extra });
const call = (path, token, method = "GET") =>
  fetch(`${edge.url}${path}`, { method, headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });

async function ok(res, status = 200) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  return res.body;
}

async function problemOf(res, status) {
  const text = await res.text();
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${text}`);
  assert.match(res.headers.get("content-type") ?? "", /^application\/problem\+json/);
  return JSON.parse(text);
}

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
  keys = makeKeys();
  rotated = null;
  upstream = await startUpstream();
  origin = await startOrigin();
  jwks = await startJwksServer({
    "/jwks": () => [keys.RS256, keys.PS256, keys.ES256, keys.EdDSA, ...(rotated ? [rotated] : [])].map(jwkOf),
  });
  edge = await startEdge({ originUrl: origin.url, edgeSecret: origin.edgeSecret, refreshSecs: 1, vars: { JWKS_REFETCH_SECS: String(REFETCH_SECS) } });
  const auth = {
    type: "jwt", jwks_url: `${jwks.url}/jwks`, issuer: ISS, audience: AUD,
    scopes: [{ scope: "pets:write", operations: ["DELETE /pets/{id}", "POST /pets"] }],
  };
  await ok(await origin.admin("POST", "/admin/v1/apis", { name: "pets", base_path: "/pets", upstream_url: upstream.url, auth }), 201);
  const down = { type: "jwt", jwks_url: "http://127.0.0.1:9/jwks", issuer: ISS, audience: AUD };
  await ok(await origin.admin("POST", "/admin/v1/apis", { name: "nokeys", base_path: "/nokeys", upstream_url: upstream.url, auth: down }), 201);
  await eventually(async () => (await call("/nokeys/x", "a.b.c")).status !== 404 || "404", "the edge routing both APIs");
  await eventually(async () => (await call("/pets/x", signToken(keys.ES256, claims()))).status === 200 || "not yet", "the edge serving JWT");
});

after(async () => {
  await edge?.stop();
  await jwks?.stop();
  await upstream?.stop();
  await origin?.cleanup();
});

test("valid tokens of every asymmetric algorithm pass, naming the caller upstream", async () => {
  for (const alg of ["RS256", "PS256", "ES256", "EdDSA"]) {
    const token = signToken(keys[alg], claims({ sub: `con_${alg}`, tg_plan: "plan_x" }));
    const res = await call("/pets/anything?q=1", token);
    assert.equal(res.status, 200, `${alg}: ${await res.clone().text()}`);
    const echo = await res.json();
    assert.equal(echo.headers["x-tollgate-consumer-id"], `con_${alg}`, alg);
    assert.equal(echo.headers["x-tollgate-plan-id"], "plan_x", alg);
    assert.equal(echo.headers.authorization, undefined, "the token is not passed upstream");
    // The same token again is answered from the verified-token cache.
    assert.equal((await call("/pets/anything", token)).status, 200);
  }
});

test("forged, expired, misdirected and malformed tokens are 401 with a challenge", async () => {
  const rsaPem = keys.RS256.publicKey.export({ format: "pem", type: "spki" });
  const other = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const cases = {
    expired: signToken(keys.ES256, claims({ exp: now() - 120 })),
    "not yet valid": signToken(keys.ES256, claims({ nbf: now() + 3600 })),
    "wrong audience": signToken(keys.ES256, claims({ aud: "other" })),
    "wrong issuer": signToken(keys.RS256, claims({ iss: "https://evil.test" })),
    "no exp": signToken(keys.EdDSA, claims({ exp: undefined })),
    "alg none": rawToken({ alg: "none", kid: "rs" }, claims()),
    "alg none, no kid": rawToken({ alg: "none" }, claims()),
    "HS256 with the RSA public key": hmacToken(Buffer.from(rsaPem), { alg: "HS256", kid: "rs" }, claims()),
    "HS256 with the RSA public key, no kid": hmacToken(Buffer.from(rsaPem), { alg: "HS256" }, claims()),
    "jku header": signToken(keys.ES256, claims(), { jku: `${jwks.url}/jwks` }),
    "embedded jwk": signToken({ ...keys.ES256, privateKey: other.privateKey }, claims(), { jwk: other.publicKey.export({ format: "jwk" }) }),
    "x5u header": signToken(keys.ES256, claims(), { x5u: "https://evil.test/cert" }),
    "unknown crit": signToken(keys.ES256, claims(), { crit: ["exp"], exp: 1 }),
    "signed by another key": signToken({ ...keys.ES256, privateKey: other.privateKey }, claims()),
    oversized: signToken(keys.ES256, claims({ pad: "x".repeat(9000) })),
    garbage: "not-a-token",
    "three garbage parts": "eyJ.eyJ.AAA",
  };
  const before = jwks.counts["/jwks"];
  for (const [what, token] of Object.entries(cases)) {
    const res = await call("/pets/x", token);
    const problem = await problemOf(res, 401);
    const challenge = res.headers.get("www-authenticate") ?? "";
    assert.match(challenge, /^Bearer error="invalid_token", error_description="[^"]+"$/, `${what}: ${challenge}`);
    assert.ok(problem.detail.length > 10, what);
  }
  assert.equal(jwks.counts["/jwks"], before, "no refusal made the edge fetch keys named by a token");
  const missing = await call("/pets/x");
  await problemOf(missing, 401);
  assert.equal(missing.headers.get("www-authenticate"), "Bearer");
});

test("scopes guard the operations they list (403), others need none", async () => {
  const reader = signToken(keys.ES256, claims({ scope: "pets:read" }));
  const writer = signToken(keys.ES256, claims({ scp: ["pets:read", "pets:write"], scope: undefined }));
  const refused = await problemOf(await call("/pets/pets/7", reader, "DELETE"), 403);
  assert.match(refused.detail, /pets:write/);
  assert.equal((await call("/pets/pets/7", writer, "DELETE")).status, 200);
  assert.equal((await call("/pets/pets/7", reader, "GET")).status, 200);
});

test("a new kid works after one refetch; an unknown-kid flood refetches at most once per interval", async () => {
  await new Promise((r) => setTimeout(r, REFETCH_SECS * 1000 + 200));
  rotated = { ...generateKeyPairSync("ec", { namedCurve: "P-256" }), kid: "ec-2026", alg: "ES256" };
  const before = jwks.counts["/jwks"];
  const token = signToken(rotated, claims({ sub: "con_rotated" }));
  const answers = await Promise.all(Array.from({ length: 10 }, () => call("/pets/x", token)));
  assert.deepEqual(answers.map((r) => r.status), Array(10).fill(200));
  assert.equal(jwks.counts["/jwks"], before + 1, "ten concurrent requests with the new kid: one refetch");

  const flood = () => signToken({ ...rotated, kid: `unknown-${Math.random()}` }, claims());
  const start = jwks.counts["/jwks"];
  const floodStarted = Date.now();
  let refused = 0;
  while (Date.now() - floodStarted < 1500) {
    const batch = await Promise.all(Array.from({ length: 10 }, () => call("/pets/x", flood())));
    refused += batch.filter((r) => r.status === 401).length;
  }
  assert.ok(refused >= 20, `${refused} unknown-kid tokens refused`);
  assert.ok(jwks.counts["/jwks"] - start <= 1, `${jwks.counts["/jwks"] - start} refetches in 1.5 s of unknown kids`);
});

test("with the JWKS down, cached keys keep working and nothing is a 5xx", async () => {
  jwks.setDown(true);
  try {
    await new Promise((r) => setTimeout(r, REFETCH_SECS * 1000 + 200));
    for (const alg of ["RS256", "ES256", "EdDSA"]) {
      const res = await call("/pets/x", signToken(keys[alg], claims({ sub: `fresh-${alg}` })));
      assert.equal(res.status, 200, alg);
    }
    const unknown = await call("/pets/x", signToken({ ...keys.ES256, kid: "gone" }, claims()));
    await problemOf(unknown, 401);
  } finally {
    jwks.setDown(false);
  }
});

test("no keys at all is a 503 with Retry-After, never a 401 or a hang", async () => {
  const res = await call("/nokeys/x", signToken(keys.ES256, claims()));
  const problem = await problemOf(res, 503);
  assert.ok(Number(res.headers.get("retry-after")) > 0);
  assert.match(problem.detail, /signing keys/);
});
