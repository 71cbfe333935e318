// Edge response caching in workerd: hits skip the upstream and say so (Cache-Status,
// Age); what must not be shared is never stored; lifetimes expire; Vary separates
// entries; conditional requests get 304 from the cache; purges by tag, prefix and all
// reach the edge within the refresh window; authenticated answers are cached only when
// the policy says so, then per consumer; auth and limits still run before a hit.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startOrigin } from "./lib/procs.mjs";
import { startEdge } from "./lib/edge.mjs";
import { startCountingUpstream } from "./lib/counting_upstream.mjs";

const REFRESH_SECS = 1;
const METRICS_TOKEN = "e2e-cache-metrics";
let origin, upstream, edge, open, keyed, consumerA, consumerB, keyA, keyB;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const settle = () => sleep(REFRESH_SECS * 1000 + 400);

async function ok(res, status = 200) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  return res.body;
}

async function get(p, headers = {}, method = "GET") {
  const res = await fetch(`${edge.url}${p}`, { method, headers });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? safeJson(text) : null, cache: res.headers.get("cache-status") ?? "" };
}

function safeJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

// The store runs after the answer (waitUntil): give it a moment before the next call.
async function getTwice(p, headers = {}) {
  const first = await get(p, headers);
  await sleep(150);
  const second = await get(p, headers);
  return [first, second];
}

const policy = (extra = {}) => ({
  enabled: true,
  default_ttl_secs: 60,
  max_ttl_secs: 3600,
  routes: [
    { path: "/tagged/*", methods: ["GET"], tags: ["forecast"] },
    { path: "/live/*", enabled: false },
  ],
  ...extra,
});

before(async () => {
  upstream = await startCountingUpstream();
  origin = await startOrigin();
  edge = await startEdge({ originUrl: origin.url, edgeSecret: origin.edgeSecret, refreshSecs: REFRESH_SECS, vars: { METRICS_TOKEN } });
  open = await ok(await origin.admin("POST", "/admin/v1/apis", { name: "open", base_path: "/c", upstream_url: upstream.url, auth: { type: "none" } }), 201);
  keyed = await ok(await origin.admin("POST", "/admin/v1/apis", { name: "keyed", base_path: "/k", upstream_url: upstream.url }), 201);
  await ok(await origin.admin("PUT", `/admin/v1/apis/${open.id}/cache`, policy()));
  await ok(await origin.admin("PUT", `/admin/v1/apis/${keyed.id}/cache`, policy()));
  consumerA = await ok(await origin.admin("POST", "/admin/v1/consumers", { name: "A", email: "a@example.com" }), 201);
  consumerB = await ok(await origin.admin("POST", "/admin/v1/consumers", { name: "B", email: "b@example.com" }), 201);
  keyA = await ok(await origin.admin("POST", "/admin/v1/keys", { consumer_id: consumerA.id, api_id: keyed.id }), 201);
  keyB = await ok(await origin.admin("POST", "/admin/v1/keys", { consumer_id: consumerB.id, api_id: keyed.id }), 201);
  await settle();
});

after(async () => {
  await edge?.stop();
  await upstream?.stop();
  await origin?.cleanup();
});

test("the second GET is a hit: the upstream is not called, Cache-Status and Age say so, HEAD is served from it", async () => {
  const [first, second] = await getTwice("/c/hit");
  assert.equal(first.status, 200);
  assert.equal(first.cache, "tollgate;fwd=uri-miss;fwd-status=200;stored");
  assert.equal(second.status, 200);
  assert.match(second.cache, /^tollgate;hit;ttl=(59|60)$/);
  assert.match(second.headers.get("age"), /^\d+$/);
  assert.deepEqual(second.body, first.body);
  assert.equal(upstream.count("/hit"), 1);
  for (const h of second.headers.keys()) assert.ok(!h.startsWith("x-tollgate-cache"), h);
  assert.equal(second.headers.get("cache-control"), null, "the upstream sent none, the client gets none");
  const head = await get("/c/hit", {}, "HEAD");
  assert.equal(head.status, 200);
  assert.match(head.cache, /hit/);
  assert.equal(head.body, null);
  assert.equal(upstream.count("/hit"), 1);
});

test("no-store, private, Set-Cookie, Vary: *, 500 and POST answers are never stored", async () => {
  for (const [q, detail] of [
    ["cc=no-store", "no-store"],
    ["cc=private,max-age=60", "private"],
    ["cookie=1&cc=max-age=60", "set-cookie"],
    ["vary=*", "vary-star"],
    ["status=500", "status"],
  ]) {
    const p = `/never-${detail}`;
    const [first, second] = await getTwice(`/c${p}?${q}`);
    assert.equal(upstream.count(p), 2, `${q} was stored`);
    assert.match(second.cache, new RegExp(`fwd=uri-miss;fwd-status=\\d+;detail=${detail}$`), second.cache);
    assert.ok(!first.cache.includes("stored"));
  }
  await get("/c/post", {}, "POST");
  const post = await get("/c/post", {}, "POST");
  assert.equal(upstream.count("/post"), 2);
  assert.equal(post.cache, "tollgate;fwd=method;fwd-status=200");
  const live = await get("/c/live/now");
  assert.equal(live.cache, "", "a route with caching off has no Cache-Status");
  const range = await getTwice("/c/range", { range: "bytes=0-1" });
  assert.match(range[1].cache, /fwd=bypass;fwd-status=200;detail=range/);
});

test("max-age=1 is served for a second, then the upstream is asked again", async () => {
  const [, second] = await getTwice("/c/short?cc=max-age%3D1");
  assert.match(second.cache, /hit/);
  assert.equal(second.headers.get("cache-control"), "max-age=1", "the upstream's own header is restored");
  await sleep(1200);
  const third = await get("/c/short?cc=max-age%3D1");
  assert.match(third.cache, /fwd=(stale|uri-miss)/);
  assert.equal(upstream.count("/short"), 2);
});

test("Vary: Accept-Language keeps one entry per language", async () => {
  const p = "/c/vary?vary=Accept-Language";
  const de1 = await get(p, { "accept-language": "de" });
  await sleep(150);
  const fr1 = await get(p, { "accept-language": "fr" });
  await sleep(150);
  assert.match(fr1.cache, /fwd=vary-miss/);
  const de2 = await get(p, { "accept-language": "de" });
  const fr2 = await get(p, { "accept-language": "fr" });
  assert.match(de2.cache, /hit/);
  assert.match(fr2.cache, /hit/);
  assert.equal(de2.body.lang, "de");
  assert.equal(fr2.body.lang, "fr");
  assert.equal(de1.body.lang, "de");
  assert.equal(de2.headers.get("vary"), "Accept-Language");
  assert.equal(upstream.count("/vary"), 2);
});

test("If-None-Match is answered 304 from the cache with the validators", async () => {
  const p = "/c/etag?etag=%22v1%22&lm=Sun,%2006%20Nov%201994%2008:49:37%20GMT";
  await getTwice(p);
  const res = await get(p, { "if-none-match": 'W/"v1"' });
  assert.equal(res.status, 304, `${res.cache} ${JSON.stringify([...res.headers])}`);
  assert.equal(res.headers.get("etag"), '"v1"');
  assert.match(res.cache, /hit/);
  const other = await get(p, { "if-none-match": '"v2"' });
  assert.equal(other.status, 200);
  const since = await get(p, { "if-modified-since": "Sun, 06 Nov 1994 08:49:37 GMT" });
  assert.equal(since.status, 304);
  assert.equal(upstream.count("/etag"), 1);
});

test("purges by tag, by prefix and of everything make the next request a miss", async () => {
  const [, tagged] = await getTwice("/c/tagged/berlin");
  const [, prefixed] = await getTwice("/c/maps/eu");
  const [, other] = await getTwice("/c/untouched");
  assert.match(tagged.cache, /hit/);
  assert.match(prefixed.cache, /hit/);
  assert.match(other.cache, /hit/);
  assert.equal((await origin.admin("POST", `/admin/v1/apis/${open.id}/cache/purge`, { tags: ["forecast"] })).status, 202);
  assert.equal((await origin.admin("POST", `/admin/v1/apis/${open.id}/cache/purge`, { path_prefix: "/maps" })).status, 202);
  await settle();
  assert.match((await get("/c/tagged/berlin")).cache, /fwd=miss;fwd-status=200;stored/);
  assert.match((await get("/c/maps/eu")).cache, /fwd=miss/);
  assert.match((await get("/c/untouched")).cache, /hit/, "a purge touches only what it names");
  assert.equal(upstream.count("/tagged/berlin"), 2);
  assert.equal((await origin.admin("POST", `/admin/v1/apis/${open.id}/cache/purge`, {})).status, 202);
  await settle();
  assert.match((await get("/c/untouched")).cache, /fwd=uri-miss/);
  assert.equal(upstream.count("/untouched"), 2);
});

test("authenticated answers are stored only when the policy says so, then never across consumers", async () => {
  const a = { authorization: `Bearer ${keyA.key}` };
  const b = { authorization: `Bearer ${keyB.key}` };
  const [, second] = await getTwice("/k/private-data", a);
  assert.match(second.cache, /fwd=bypass;fwd-status=200;detail=authenticated/);
  assert.equal(upstream.count("/private-data"), 2);
  await ok(await origin.admin("PUT", `/admin/v1/apis/${keyed.id}/cache`, policy({ cache_authenticated: true })));
  await settle();
  const [, a2] = await getTwice("/k/shared", a);
  assert.match(a2.cache, /hit/);
  assert.equal(a2.body.consumer, consumerA.id);
  const b1 = await get("/k/shared", b);
  assert.match(b1.cache, /fwd=uri-miss/);
  assert.equal(b1.body.consumer, consumerB.id);
  await sleep(150);
  const b2 = await get("/k/shared", b);
  assert.match(b2.cache, /hit/);
  assert.equal(b2.body.consumer, consumerB.id);
  assert.equal(upstream.count("/shared"), 2);
  const anonymous = await get("/k/shared");
  assert.equal(anonymous.status, 401, "no key, no cached answer");
});

test("a revoked key gets 401 even though its answer is cached", async () => {
  await ok(await origin.admin("PUT", `/admin/v1/apis/${keyed.id}/cache`, policy({ cache_authenticated: true })));
  const c = await ok(await origin.admin("POST", "/admin/v1/consumers", { name: "C", email: "c@example.com" }), 201);
  const k = await ok(await origin.admin("POST", "/admin/v1/keys", { consumer_id: c.id, api_id: keyed.id }), 201);
  await settle();
  const h = { authorization: `Bearer ${k.key}` };
  const [, hit] = await getTwice("/k/revoked", h);
  assert.match(hit.cache, /hit/);
  assert.equal((await origin.admin("DELETE", `/admin/v1/keys/${k.id}`)).status, 204);
  await settle();
  const after = await get("/k/revoked", h);
  assert.equal(after.status, 401);
  assert.equal(upstream.count("/revoked"), 1);
});

test("a rate-limited caller gets 429 even when the answer is cached, and hits are metered", async () => {
  const plan = await ok(await origin.admin("POST", "/admin/v1/plans", { name: "tiny", rate_limit: { requests: 2, per_seconds: 60 } }), 201);
  const k = await ok(await origin.admin("POST", "/admin/v1/keys", { consumer_id: consumerA.id, api_id: keyed.id, plan_id: plan.id }), 201);
  await settle();
  const h = { authorization: `Bearer ${k.key}` };
  const [first, second] = await getTwice("/k/limited", h);
  assert.equal(first.status, 200);
  assert.match(second.cache, /hit/);
  assert.match(second.headers.get("ratelimit") ?? "", /r=0/, "the hit was counted");
  const third = await get("/k/limited", h);
  assert.equal(third.status, 429);
  const text = await (await fetch(`${edge.url}/.tollgate/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
  const hits = Number(/^tollgate_cache_total\{result="hit"\} (\d+)/m.exec(text)?.[1]);
  assert.ok(hits >= 5, text);
});
