// Benchmark: the origin's snapshot at scale, through the real binary on SQLite (or
// TOLLGATE_DATABASE_URL): 1,000 APIs and 100,000 keys (1,000 of them revoked, so the 24-hour
// revocation feed is 1% of keys) created through the admin API, then the signed
// GET /edge/v1/snapshot timed (median of 20) with its size, and key look-ups timed.
// Keys are not in the snapshot (the edge looks them up by hash); the revoked feed is.
import { createHmac } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startOrigin } from "../tests/e2e/lib/procs.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const APIS = Number(process.env.BENCH_APIS ?? 1000);
const KEYS = Number(process.env.BENCH_KEYS ?? 100000);
const REVOKED = Math.floor(KEYS / 100);
const CONCURRENCY = 16;

async function pool(n, work) {
  let next = 0;
  let done = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < n) {
        const i = next++;
        await work(i);
        if (++done % 10000 === 0) process.stderr.write(`\r  ${done}/${n} (${Math.round(done / ((Date.now() - started) / 1000))}/s)`);
      }
    }),
  );
  process.stderr.write("\n");
}

function signed(origin, pathAndQuery) {
  const t = Math.floor(Date.now() / 1000);
  const s = createHmac("sha256", origin.edgeSecret).update(`${t}\nGET\n${pathAndQuery}`).digest("hex");
  return { "x-tollgate-edge-signature": `t=${t},s=${s}` };
}

const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  process.env.TOLLGATE_BIN ??= path.join(root, "target/release/tollgate");
  const origin = await startOrigin({ databaseUrl: process.env.TOLLGATE_DATABASE_URL });
  try {
    const must = async (method, p, body) => {
      const r = await origin.admin(method, p, body);
      if (r.status >= 300) throw new Error(`${method} ${p}: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    };
    process.stderr.write(`creating ${APIS} APIs, ${KEYS} keys (${REVOKED} revoked)…\n`);
    const apis = [];
    await pool(APIS, async (i) => {
      apis[i] = (await must("POST", "/admin/v1/apis", { name: `api-${i}`, base_path: `/team-${i % 50}/api-${i}`, upstream_url: `http://127.0.0.1:9/${i}` })).id;
    });
    const consumer = (await must("POST", "/admin/v1/consumers", { name: "bench", email: "bench@example.com" })).id;
    const keys = [];
    const t0 = Date.now();
    await pool(KEYS, async (i) => {
      keys[i] = await must("POST", "/admin/v1/keys", { consumer_id: consumer, api_id: apis[i % APIS] });
    });
    const issueSecs = (Date.now() - t0) / 1000;
    await pool(REVOKED, async (i) => {
      const r = await origin.admin("DELETE", `/admin/v1/keys/${keys[i * 100].id}`);
      if (r.status !== 204) throw new Error(`revoke: ${r.status}`);
    });

    const times = [];
    let bytes = 0;
    for (let i = 0; i < 20; i++) {
      const started = performance.now();
      const r = await fetch(`${origin.url}/edge/v1/snapshot`, { headers: signed(origin, "/edge/v1/snapshot") });
      const body = await r.arrayBuffer();
      times.push(performance.now() - started);
      bytes = body.byteLength;
      if (r.status !== 200) throw new Error(`snapshot ${r.status}`);
    }
    const etag = (await fetch(`${origin.url}/edge/v1/snapshot`, { headers: signed(origin, "/edge/v1/snapshot") })).headers.get("etag");
    const notModified = [];
    for (let i = 0; i < 20; i++) {
      const started = performance.now();
      const r = await fetch(`${origin.url}/edge/v1/snapshot`, { headers: { ...signed(origin, "/edge/v1/snapshot"), "if-none-match": etag } });
      await r.arrayBuffer();
      notModified.push(performance.now() - started);
      if (r.status !== 304) throw new Error(`expected 304, got ${r.status}`);
    }
    const lookups = [];
    const { createHash } = await import("node:crypto");
    for (let i = 0; i < 200; i++) {
      const hash = createHash("sha256").update(keys[(i * 487) % KEYS].key).digest("hex");
      const p = `/edge/v1/keys/${hash}`;
      const started = performance.now();
      const r = await fetch(`${origin.url}${p}`, { headers: signed(origin, p) });
      await r.arrayBuffer();
      lookups.push(performance.now() - started);
    }
    const db = process.env.TOLLGATE_DATABASE_URL?.startsWith("postgres") ? "PostgreSQL" : "SQLite";
    console.log(`\norigin (release) on ${db}: ${APIS} APIs, ${KEYS} keys, ${REVOKED} revoked in the feed\n`);
    console.log("| measure | value |");
    console.log("|---|---:|");
    console.log(`| key issue rate through the admin API (16 concurrent) | ${Math.round(KEYS / issueSecs)} keys/s |`);
    console.log(`| snapshot size (JSON) | ${(bytes / 1024).toFixed(0)} KiB |`);
    console.log(`| snapshot build + transfer, median of 20 | ${median(times).toFixed(1)} ms |`);
    console.log(`| unchanged snapshot (304), median of 20 | ${median(notModified).toFixed(2)} ms |`);
    console.log(`| key look-up by hash, median of 200 | ${median(lookups).toFixed(2)} ms |`);
  } finally {
    await origin.cleanup();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
