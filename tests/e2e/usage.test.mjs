// Usage metering end to end in workerd: every call through the edge becomes a usage event,
// buffered in the isolate, sent through the Queue, posted by the queue consumer to the
// origin's idempotent ledger. Exactly the billable answers (not 401/429) are counted, and
// an origin outage during the calls loses nothing and double-counts nothing. The upstream's
// `tollgate-meter` header is metered and stripped; N calls are N units on the draft invoice,
// and the reconciliation report agrees.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { startOrigin, startUpstream } from "./lib/procs.mjs";
import { startEdge } from "./lib/edge.mjs";

const REFRESH_SECS = 1;
let origin, upstream, edge, api;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function created(res) {
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

async function consumerWithKey(planId, apiId = api.id) {
  const consumer = await created(await origin.admin("POST", "/admin/v1/consumers", { name: "Use", email: "use@example.com" }));
  const body = { consumer_id: consumer.id, api_id: apiId, ...(planId ? { plan_id: planId } : {}) };
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

test("the upstream's tollgate-meter header is metered and never reaches the client", async () => {
  const server = http.createServer((req, res) => {
    res.writeHead(200, { "content-type": "application/json", "tollgate-meter": "tokens=5, images=1" });
    res.end("{}");
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  try {
    const metered = await created(await origin.admin("POST", "/admin/v1/apis", {
      name: "metered", base_path: "/metered", upstream_url: `http://127.0.0.1:${server.address().port}`,
    }));
    const { consumer, key } = await consumerWithKey(undefined, metered.id);
    await sleep(REFRESH_SECS * 1000 + 300);
    for (let i = 0; i < 4; i++) {
      const r = await fetch(`${edge.url}/metered/x`, { headers: { authorization: `Bearer ${key}` } });
      await r.arrayBuffer();
      assert.equal(r.status, 200);
      assert.equal(r.headers.get("tollgate-meter"), null, "the meter header is stripped");
    }
    await expectBillable(consumer.id, 4);
    const agg = await origin.admin("GET", `/admin/v1/usage/aggregates?consumer_id=${consumer.id}&granularity=day`);
    assert.equal(agg.status, 200, JSON.stringify(agg.body));
    assert.deepEqual(agg.body.rows[0].meters, { images: { sum: 4, max: 1 }, tokens: { sum: 20, max: 5 } });
  } finally {
    server.close();
  }
});

test("N calls through the edge are N billable units on the draft invoice; reconciliation agrees", async () => {
  const price = { currency: "USD", amount_minor: 0, interval: "month", unit_price_minor: 3 };
  const plan = await created(await origin.admin("POST", "/admin/v1/plans", { name: "per call", type: "paid", price }));
  const consumer = await created(await origin.admin("POST", "/admin/v1/consumers", { name: "Billed", email: "billed@example.com" }));
  const sub = await created(await origin.admin("POST", "/admin/v1/subscriptions", { consumer_id: consumer.id, api_id: api.id, plan_id: plan.id }));
  const key = (await created(await origin.admin("POST", "/admin/v1/keys", { subscription_id: sub.id }))).key;
  await sleep(REFRESH_SECS * 1000 + 300);
  const N = 17;
  const statuses = await Promise.all(Array.from({ length: N }, () => call(edge, key)));
  assert.ok(statuses.every((s) => s === 200), JSON.stringify(statuses));
  await expectBillable(consumer.id, N);
  const invoice = await origin.admin("POST", "/admin/v1/invoices/generate", { consumer_id: consumer.id });
  assert.equal(invoice.status, 200, JSON.stringify(invoice.body));
  const units = invoice.body.lines.filter((l) => l.kind === "usage").reduce((n, l) => n + l.quantity, 0);
  assert.equal(units, N, JSON.stringify(invoice.body.lines));
  assert.equal(invoice.body.subtotal_minor, N * 3);
  const from = new Date(Date.now() - 86400000).toISOString();
  const to = new Date(Date.now() + 86400000).toISOString();
  const rec = await origin.admin("GET", `/admin/v1/usage/reconciliation?consumer_id=${consumer.id}&from=${from}&to=${to}`);
  assert.equal(rec.status, 200, JSON.stringify(rec.body));
  const sum = (f) => rec.body.days.reduce((n, r) => n + r[f], 0);
  assert.deepEqual(
    [sum("events_received"), sum("billable_units"), sum("rolled_up_units"), sum("invoiced_units"), sum("difference")],
    [N, N, N, N, 0],
    JSON.stringify(rec.body),
  );
  assert.equal(rec.body.invoices.length, 1, JSON.stringify(rec.body));
  assert.deepEqual(
    [rec.body.invoices[0].ledger_units, rec.body.invoices[0].billed_units, rec.body.invoices[0].difference],
    [N, N, 0],
  );
  const bad = await origin.admin("GET", `/admin/v1/usage/reconciliation?from=${from}`);
  assert.equal(bad.status, 422);
  assert.match(bad.body.detail ?? "", /required/);
});
