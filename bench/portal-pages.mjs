// Benchmark: the developer portal's main pages — page weight (HTML plus every stylesheet
// and script it loads from /portal/static, raw and as gzip would send them) and server
// time (median and p95 of sequential GETs on loopback, so the time is the origin's).
// A developer is signed up, subscribed and given a key, and 2,000 usage events are
// posted so the usage page has data. Uses target/release/tollgate when built, else debug
// (printed; debug times are several times slower).
import { createHmac } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const release = path.join(root, "target/release/tollgate");
process.env.TOLLGATE_BIN ??= existsSync(release) ? release : path.join(root, "target/debug/tollgate");
const { startOrigin } = await import("../tests/e2e/lib/procs.mjs");
const RUNS = Number(process.env.BENCH_RUNS ?? 50);

const origin = await startOrigin();
const jar = { cookie: "", csrf: "" };
async function get(pathname) {
  const res = await fetch(`${origin.url}${pathname}`, { headers: { cookie: jar.cookie }, redirect: "manual" });
  const set = res.headers.get("set-cookie");
  if (set) jar.cookie = set.split(";")[0];
  const body = Buffer.from(await res.arrayBuffer());
  const csrf = body.toString().match(/name="csrf" value="([0-9a-f]{64})"/);
  if (csrf) jar.csrf = csrf[1];
  return { res, body };
}
async function post(pathname, form) {
  const res = await fetch(`${origin.url}${pathname}`, {
    method: "POST",
    redirect: "manual",
    headers: { cookie: jar.cookie, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ csrf: jar.csrf, ...form }),
  });
  const set = res.headers.get("set-cookie");
  if (set) jar.cookie = set.split(";")[0];
  return res;
}

try {
  const api = (await origin.admin("POST", "/admin/v1/apis", { name: "Pets", base_path: "/pets", upstream_url: "http://127.0.0.1:9" })).body;
  const spec = readFileSync(path.join(root, "../shared/testdata/openapi/v3.0/petstore.yaml"));
  const up = await fetch(`${origin.url}/admin/v1/apis/${api.id}/versions?version=1.0.0`, {
    method: "POST",
    headers: { authorization: `Bearer ${origin.adminToken}`, "content-type": "application/yaml" },
    body: spec,
  });
  if (up.status !== 201) throw new Error(`upload: ${up.status} ${await up.text()}`);
  await origin.admin("POST", `/admin/v1/apis/${api.id}/versions/1.0.0/publish`, {});
  const plan = (await origin.admin("POST", "/admin/v1/plans", { name: "Free", type: "free", quota: { requests: 10000, period: "month" } })).body;
  await get("/portal/signup");
  await post("/portal/signup", { name: "Bench", email: "bench@example.com", password: "a long password" });
  await get(`/portal/apis/${api.id}`);
  await post(`/portal/apis/${api.id}/subscribe`, { plan_id: plan.id });
  const keysPage = (await get("/portal/keys")).body.toString();
  const sub = keysPage.match(/name="subscription_id" value="([^"]+)"/)[1];
  await post("/portal/keys", { subscription_id: sub });
  const key = (await origin.admin("GET", "/admin/v1/keys")).body[0];
  // 2,000 events over the last 47 hours (the ledger's grace window is 48 h), so every
  // hourly bucket of the charts and tables has rows.
  const now = Date.now();
  const events = Array.from({ length: 2000 }, (_, i) => ({
    specversion: "1.0", id: `bench-${i}`, source: "tollgate-edge/bench", type: "dev.tollgate.request",
    time: new Date(now - 60_000 - (i % 47) * 3600_000).toISOString(),
    subject: key.consumer_id, datacontenttype: "application/json",
    data: { api_id: api.id, consumer_id: key.consumer_id, key_id: key.id, status: 200, billable: true, bytes_in: 10, bytes_out: 200, latency_ms: 5 },
  }));
  // The ledger takes at most 1,000 events per batch.
  for (let at = 0; at < events.length; at += 1000) {
    const t = Math.floor(Date.now() / 1000);
    const sig = createHmac("sha256", origin.edgeSecret).update(`${t}\nPOST\n/edge/v1/usage`).digest("hex");
    const ingest = await fetch(`${origin.url}/edge/v1/usage`, {
      method: "POST",
      headers: { "x-tollgate-edge-signature": `t=${t},s=${sig}`, "content-type": "application/json" },
      body: JSON.stringify(events.slice(at, at + 1000)),
    });
    if (ingest.status !== 200) throw new Error(`ingest: ${ingest.status} ${await ingest.text()}`);
  }

  const pages = [
    ["catalog", "/portal/apis"],
    ["API", `/portal/apis/${api.id}`],
    ["version + snippets", `/portal/apis/${api.id}/versions/1.0.0`],
    ["reference (Swagger UI)", `/portal/apis/${api.id}/versions/1.0.0/reference`],
    ["keys", "/portal/keys"],
    ["usage", "/portal/usage"],
    ["usage.json", "/portal/usage.json"],
    ["invoices", "/portal/invoices"],
  ];
  const assetBytes = new Map();
  const rows = [];
  for (const [name, pathname] of pages) {
    const { res, body } = await get(pathname);
    if (res.status !== 200) throw new Error(`${pathname}: ${res.status}`);
    const html = body.toString();
    const assets = [...html.matchAll(/(?:href|src)="(\/portal\/static\/[^"]+)"/g)].map((m) => m[1]);
    let raw = body.length;
    let gz = gzipSync(body).length;
    for (const a of assets) {
      if (!assetBytes.has(a)) {
        const b = Buffer.from(await (await fetch(`${origin.url}${a}`)).arrayBuffer());
        assetBytes.set(a, [b.length, gzipSync(b).length]);
      }
      raw += assetBytes.get(a)[0];
      gz += assetBytes.get(a)[1];
    }
    const times = [];
    for (let i = 0; i < RUNS; i++) {
      const started = performance.now();
      const r = await fetch(`${origin.url}${pathname}`, { headers: { cookie: jar.cookie } });
      await r.arrayBuffer();
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    rows.push({
      page: name,
      "HTML kB": (body.length / 1000).toFixed(1),
      assets: assets.length,
      "total kB": (raw / 1000).toFixed(1),
      "total gzip kB": (gz / 1000).toFixed(1),
      "median ms": times[Math.floor(RUNS / 2)].toFixed(2),
      "p95 ms": times[Math.floor(RUNS * 0.95)].toFixed(2),
    });
  }
  console.log(`# ${path.relative(root, process.env.TOLLGATE_BIN)}, SQLite, ${RUNS} sequential GETs per page, ${events.length} usage events`);
  console.log("| page | HTML kB | assets | total kB | total gzip kB | median ms | p95 ms |");
  console.log("|---|---:|---:|---:|---:|---:|---:|");
  for (const r of rows) console.log(`| ${Object.values(r).join(" | ")} |`);
} finally {
  await origin.cleanup();
}
