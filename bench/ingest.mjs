// Benchmark: usage ingestion (POST /edge/v1/usage) through the real release binary, on
// SQLite and on PostgreSQL (a fresh database on 127.0.0.1:5432, skipped when psql is
// missing or the server is down), with batches of 100 and 1,000 events. Bodies are built
// and signed before the clock starts; 4 batches in flight. Each event is new (unique id),
// spread over 200 consumers × 2 keys × 3 APIs so the aggregates see real upserts.
// Ids have the edge's shape (milliseconds in hex, then randomness: see time_ordered_id).
// Prints two rates per row: acknowledged (every batch answered 200: the events are in the
// ledger, durable) and folded (the aggregates' total equals the events sent: readable by
// usage queries and invoices), and the ratio of each to the first row (SQLite, batches of 100).
import { createHmac, randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
// procs.mjs reads TOLLGATE_BIN when it is imported: the release binary, set first.
process.env.TOLLGATE_BIN ??= path.join(root, "target/release/tollgate");
const { startOrigin } = await import("../tests/e2e/lib/procs.mjs");
const EVENTS = Number(process.env.BENCH_EVENTS ?? 100000);
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 4);
const PG_ADMIN = process.env.TOLLGATE_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";

function signature(secret) {
  const t = Math.floor(Date.now() / 1000);
  const s = createHmac("sha256", secret).update(`${t}\nPOST\n/edge/v1/usage`).digest("hex");
  return `t=${t},s=${s}`;
}

function bodies(run, batch) {
  const now = Date.now();
  const out = [];
  for (let b = 0; b < EVENTS / batch; b++) {
    const events = [];
    for (let i = 0; i < batch; i++) {
      const n = b * batch + i;
      // Edge traffic: events of the last few seconds, each key of one consumer and API.
      const key = n % 400;
      const consumer = `con_${key % 200}`;
      events.push({
        specversion: "1.0", id: `evt_${(now + b).toString(16).padStart(12, "0")}${randomBytes(10).toString("hex")}`, source: "bench", type: "dev.tollgate.request",
        time: new Date(now - (n % 5) * 1000).toISOString(), subject: consumer,
        data: { api_id: `${run}-api-${key % 3}`, consumer_id: consumer, key_id: `key_${key}`, status: n % 10 === 0 ? 429 : 200,
                billable: n % 10 !== 0, bytes_in: 0, bytes_out: 512, latency_ms: n % 50, meters: { tokens: n % 100 } },
      });
    }
    out.push(JSON.stringify(events));
  }
  return out;
}

async function measure(origin, run, batch) {
  const all = bodies(run, batch);
  let next = 0;
  let accepted = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (next < all.length) {
      const body = all[next++];
      const r = await fetch(`${origin.url}/edge/v1/usage`, {
        method: "POST", body,
        headers: { "content-type": "application/json", "x-tollgate-edge-signature": signature(origin.edgeSecret) },
      });
      const answer = await r.json();
      if (r.status !== 200) throw new Error(`${r.status} ${JSON.stringify(answer)}`);
      accepted += answer.accepted;
    }
  }));
  const ackSecs = (performance.now() - t0) / 1000;
  if (accepted !== EVENTS) throw new Error(`accepted ${accepted} of ${EVENTS}`);
  // A usage query catches the aggregates up with the ledger; it returns once they are.
  let folded = 0;
  const from = new Date(Date.now() - 86400000 * 2).toISOString();
  for (let a = 0; a < 3; a++) {
    const r = await origin.admin("GET", `/admin/v1/usage/aggregates?api_id=${run}-api-${a}&granularity=day&from=${from}`);
    if (r.status !== 200) throw new Error(`aggregates: ${r.status} ${JSON.stringify(r.body)}`);
    folded += r.body.rows.reduce((sum, row) => sum + row.requests, 0);
  }
  const foldSecs = (performance.now() - t0) / 1000;
  if (folded !== EVENTS) throw new Error(`the aggregates hold ${folded} events, expected ${EVENTS}`);
  return { ack: EVENTS / ackSecs, folded: EVENTS / foldSecs };
}

function freshPg() {
  const name = `tollgate_bench_ingest_${process.pid}`;
  try {
    execFileSync("psql", [PG_ADMIN, "-qc", `CREATE DATABASE ${name}`], { stdio: "ignore" });
  } catch {
    return null;
  }
  const base = PG_ADMIN.slice(0, PG_ADMIN.lastIndexOf("/"));
  return { url: `${base}/${name}`, drop: () => execFileSync("psql", [PG_ADMIN, "-qc", `DROP DATABASE ${name} WITH (FORCE)`], { stdio: "ignore" }) };
}

async function main() {
  const rows = [];
  const dbs = [["SQLite", null], ["PostgreSQL", process.env.BENCH_SQLITE_ONLY ? null : freshPg()]];
  for (const [label, pg] of dbs) {
    if (label === "PostgreSQL" && !pg) {
      console.error("PostgreSQL not reachable: skipped");
      continue;
    }
    const origin = await startOrigin({ databaseUrl: pg?.url });
    try {
      for (const batch of [100, 1000]) {
        try {
          rows.push({ label, batch, ...(await measure(origin, `${label}-${batch}`, batch)) });
        } catch (e) {
          console.error(origin.log().split("\n").filter((l) => /ERROR|error/.test(l)).slice(-5).join("\n"));
          throw e;
        }
      }
    } finally {
      await origin.cleanup();
      pg?.drop();
    }
  }
  const base = rows[0];
  console.log(`\nUsage ingestion, ${EVENTS} new events per row, ${IN_FLIGHT} batches in flight\n`);
  console.log("| database   | batch | acknowledged events/s | vs SQLite×100 | folded events/s | vs SQLite×100 |");
  console.log("|------------|------:|----------------------:|--------------:|----------------:|--------------:|");
  const n = (v) => Math.round(v).toLocaleString("en");
  for (const r of rows) {
    console.log(`| ${r.label.padEnd(10)} | ${String(r.batch).padStart(5)} | ${n(r.ack).padStart(21)} | ${(r.ack / base.ack).toFixed(2).padStart(12)}× | ${n(r.folded).padStart(15)} | ${(r.folded / base.folded).toFixed(2).padStart(12)}× |`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
