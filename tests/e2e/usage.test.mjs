// Usage metering end to end in workerd: every call through the edge becomes a usage event,
// buffered in the isolate, sent through the Queue, posted by the queue consumer to the
// origin's idempotent ledger. Exactly the billable answers (not 401/429) are counted, and
// an origin outage during the calls loses nothing and double-counts nothing.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startOrigin, startUpstream } from "./lib/procs.mjs";
import { startEdge } from "./lib/edge.mjs";

const REFRESH_SECS = 1;
let origin, upstream, edge, api;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function created(res) {
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

async function consumerWithKey(planId) {
  const consumer = await created(await origin.admin("POST", "/admin/v1/consumers", { name: "Use", email: "use@example.com" }));
  const body = { consumer_id: consumer.id, api_id: api.id, ...(planId ? { plan_id: planId } : {}) };
  const key = (await created(await origin.admin("POST", "/admin/v1/keys", body))).key;
  return { consumer, key };
}

async function call(e, key, path = "/use/x") {
  const r = await fetch(`${e.url}${path}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  await r.arrayBuffer();
  return r.status;
}

async function billable(consumerId) {
  const r = await origin.admin("GET", `/admin/v1/usage?consumer_id=${consumerId}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.billable_requests;
}

// Polls until the count reaches `want`, then checks it stays there (no double count).
async function expectBillable(consumerId, want, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  let got;
  while (Date.now() < deadline) {
    got = await billable(consumerId);
    if (got >= want) break;
    await sleep(200);
  }
  assert.equal(got, want, `billable requests of ${consumerId}`);
  await sleep(2500);
  assert.equal(await billable(consumerId), want, "the count moved after it settled");
}

before(async () => {
  upstream = await startUpstream();
  origin = await startOrigin();
  edge = await startEdge({ originUrl: origin.url, edgeSecret: origin.edgeSecret, refreshSecs: REFRESH_SECS });
  api = await created(await origin.admin("POST", "/admin/v1/apis", { name: "use", base_path: "/use", upstream_url: upstream.url }));
});

after(async () => {
  await edge?.stop();
  await upstream?.stop();
  await origin?.cleanup();
});

test("exactly the billable calls through the edge are counted (200 yes, 429 and 401 no)", async () => {
  const plan = await created(await origin.admin("POST", "/admin/v1/plans", { name: "five", rate_limit: { requests: 5, per_seconds: 60 } }));
  const limited = await consumerWithKey(plan.id);
  const open = await consumerWithKey();
  await sleep(REFRESH_SECS * 1000 + 300);
  const statuses = [];
  for (let i = 0; i < 8; i++) statuses.push(await call(edge, limited.key));
  assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429, 429]);
  const burst = await Promise.all(Array.from({ length: 40 }, () => call(edge, open.key)));
  assert.ok(burst.every((s) => s === 200), JSON.stringify(burst));
  for (let i = 0; i < 3; i++) assert.equal(await call(edge, "tg_wrong_key_value"), 401);
  await expectBillable(limited.consumer.id, 5);
  await expectBillable(open.consumer.id, 40);
  // The refusals are in the ledger too, as non-billable requests of their consumer.
  const agg = await origin.admin("GET", `/admin/v1/usage/aggregates?consumer_id=${limited.consumer.id}&granularity=day`);
  assert.equal(agg.status, 200, JSON.stringify(agg.body));
  assert.equal(agg.body.rows.length, 1);
  assert.equal(agg.body.rows[0].requests, 8);
  assert.equal(agg.body.rows[0].billable, 5);
});

test("an origin outage during the calls: events are redelivered, totals exact", async () => {
  const { consumer, key } = await consumerWithKey();
  await sleep(REFRESH_SECS * 1000 + 300);
  assert.equal(await call(edge, key), 200); // the key is now cached at the edge
  await expectBillable(consumer.id, 1);
  await origin.stop();
  const during = await Promise.all(Array.from({ length: 30 }, () => call(edge, key)));
  assert.ok(during.every((s) => s === 200), JSON.stringify(during));
  await sleep(2500); // at least one delivery attempt fails while the origin is down
  await origin.restart();
  await expectBillable(consumer.id, 31, 30000);
});

test("without the queue binding the edge posts usage straight to the origin", async () => {
  const direct = await startEdge({ originUrl: origin.url, edgeSecret: origin.edgeSecret, refreshSecs: REFRESH_SECS, usageQueue: false });
  try {
    const { consumer, key } = await consumerWithKey();
    await sleep(REFRESH_SECS * 1000 + 300);
    const statuses = await Promise.all(Array.from({ length: 12 }, () => call(direct, key)));
    assert.ok(statuses.every((s) => s === 200), JSON.stringify(statuses));
    await expectBillable(consumer.id, 12);
  } finally {
    await direct.stop();
  }
});
