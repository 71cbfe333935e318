// Benchmark: one run through the edge in workerd (Miniflare) with wrk, three ways —
// no limit, a strict limit (every request asks its RateLimiter object) and a fast limit
// (the isolate leases units) — printing req/s, p50, p99, the ratio to no limit and the
// Durable Object calls per admitted request, read from the edge's metrics counters.
// Run with `make bench-limits`.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startOrigin, startUpstream } from "../tests/e2e/lib/procs.mjs";
import { startEdge } from "../tests/e2e/lib/edge.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const DURATION = process.env.BENCH_DURATION ?? "10s";
const CONNECTIONS = process.env.BENCH_CONNECTIONS ?? "32";
const METRICS_TOKEN = "bench";
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? "3");

function wrk(url, headers) {
  const args = ["-t1", `-c${CONNECTIONS}`, `-d${DURATION}`, "--latency"];
  for (const [k, v] of Object.entries(headers)) args.push("-H", `${k}: ${v}`);
  args.push(url);
  const out = spawnSync("wrk", args, { encoding: "utf8" });
  if (out.status !== 0) throw new Error(`wrk failed: ${out.stderr}`);
  const text = out.stdout;
  const ms = (label) => {
    const m = new RegExp(`\\s${label}%\\s+([\\d.]+)(us|ms|s)`).exec(text);
    return Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2]];
  };
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  return { rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(text)[1]), p50: ms(50), p99: ms(99), errors: non2xx ? Number(non2xx[1]) : 0 };
}

async function counters(edge, attempt = 0) {
  let text;
  try {
    // A fresh connection: after a wrk run workerd may close the pooled ones.
    const res = await fetch(`${edge.url}/.tollgate/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}`, connection: "close" } });
    text = await res.text();
  } catch (e) {
    if (attempt >= 3) throw e;
    await new Promise((r) => setTimeout(r, 200));
    return counters(edge, attempt + 1);
  }
  const value = (name) => Number(new RegExp(`^${name} (\\d+)`, "m").exec(text)[1]);
  return { calls: value("tollgate_limiter_object_calls_total"), admitted: value("tollgate_limiter_admitted_total") };
}

async function main() {
  process.env.TOLLGATE_BIN ??= path.join(root, "target/release/tollgate");
  const upstream = await startUpstream();
  const origin = await startOrigin();
  const edge = await startEdge({ originUrl: origin.url, edgeSecret: origin.edgeSecret, refreshSecs: 1, vars: { METRICS_TOKEN } });
  try {
    const api = (await origin.admin("POST", "/admin/v1/apis", { name: "b", base_path: "/b", upstream_url: upstream.url })).body;
    const consumer = (await origin.admin("POST", "/admin/v1/consumers", { name: "bench", email: "bench@example.com" })).body;
    // Limits far above what the run can reach, so every request is admitted and what is
    // measured is the cost of deciding.
    const big = { requests: 1_000_000, per_seconds: 3600 };
    const strict = (await origin.admin("POST", "/admin/v1/plans", { name: "strict", rate_limit: big })).body;
    const fast = (await origin.admin("POST", "/admin/v1/plans", { name: "fast", rate_limit: { ...big, mode: "fast", lease: 100 } })).body;
    const key = async (plan_id) =>
      (await origin.admin("POST", "/admin/v1/keys", { consumer_id: consumer.id, api_id: api.id, ...(plan_id ? { plan_id } : {}) })).body.key;
    await new Promise((r) => setTimeout(r, 1500));
    const setups = [];
    for (const [name, plan] of [["no limit", null], ["strict (object per request)", strict], ["fast (leases of 100)", fast]]) {
      const auth = { authorization: `Bearer ${await key(plan?.id)}` };
      const warm = await fetch(`${edge.url}/b/warm`, { headers: auth });
      if (warm.status !== 200) throw new Error(`warm-up answered ${warm.status}: ${await warm.text()}`);
      setups.push({ name, plan, auth, runs: [] });
    }
    // Rounds interleave the three rows so drift in machine load hits them alike; each row
    // reports its median round.
    for (let round = 0; round < ROUNDS; round++) {
      for (const s of setups) {
        const before = await counters(edge);
        const r = wrk(`${edge.url}/b/hello`, s.auth);
        const after = await counters(edge);
        const admitted = after.admitted - before.admitted;
        r.callsPerRequest = s.plan ? (after.calls - before.calls) / Math.max(admitted, 1) : 0;
        s.runs.push(r);
      }
    }
    const rows = setups.map((s) => {
      const r = [...s.runs].sort((a, b) => a.rps - b.rps)[Math.floor(s.runs.length / 2)];
      if (s.plan) r.maxOver = s.plan.rate_limit.max_over_admission ?? 0;
      return [s.name, r];
    });
    const base = rows[0][1].rps;
    console.log(`\nwrk -t1 -c${CONNECTIONS} -d${DURATION}, median of ${ROUNDS} interleaved rounds, edge under miniflare (workerd), ${new Date().toISOString().slice(0, 10)}\n`);
    console.log("| limit | req/s | p50 ms | p99 ms | vs no limit | object calls / admitted request | non-2xx |");
    console.log("|---|---:|---:|---:|---:|---:|---:|");
    for (const [name, r] of rows) {
      console.log(`| ${name} | ${r.rps.toFixed(0)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${(r.rps / base).toFixed(3)} | ${r.callsPerRequest.toFixed(3)} | ${r.errors} |`);
    }
    console.log(`\nfast mode states max over-admission ${rows[2][1].maxOver} per window for 1,000,000/h with a 1 s lease`);
  } finally {
    await edge.stop();
    await upstream.stop();
    await origin.cleanup();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
