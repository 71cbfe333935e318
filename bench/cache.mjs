// Benchmark: one run through the edge in workerd (Miniflare) with wrk — a cached route
// (every request after the first is a hit) against an uncached route of the same API and
// upstream, with the upstream answering after ~20 ms and after 0 ms. Prints req/s, p50,
// p99 and the hit/miss ratio, and checks the edge's cache counters saw the hits.
// Run with `make bench-cache`.
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startOrigin } from "../tests/e2e/lib/procs.mjs";
import { startEdge } from "../tests/e2e/lib/edge.mjs";
import { startCountingUpstream } from "../tests/e2e/lib/counting_upstream.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const DURATION = process.env.BENCH_DURATION ?? "10s";
const CONNECTIONS = process.env.BENCH_CONNECTIONS ?? "32";
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? "3");
const METRICS_TOKEN = "bench";

// wrk runs asynchronously: the upstream lives in this process and must keep answering.
function wrk(url) {
  const args = ["-t1", `-c${CONNECTIONS}`, `-d${DURATION}`, "--latency", url];
  return new Promise((resolve, reject) => {
    const child = spawn("wrk", args);
    let text = "";
    let err = "";
    child.stdout.on("data", (d) => (text += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`wrk failed: ${err}`));
      const ms = (label) => {
        const m = new RegExp(`\\s${label}%\\s+([\\d.]+)(us|ms|s)`).exec(text);
        return Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2]];
      };
      const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text);
      resolve({ rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(text)[1]), p50: ms(50), p99: ms(99), errors: non2xx ? Number(non2xx[1]) : 0 });
    });
  });
}

async function hits(edge) {
  const res = await fetch(`${edge.url}/.tollgate/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}`, connection: "close" } });
  return Number(/^tollgate_cache_total\{result="hit"\} (\d+)/m.exec(await res.text())[1]);
}

async function main() {
  process.env.TOLLGATE_BIN ??= path.join(root, "target/release/tollgate");
  const upstream = await startCountingUpstream();
  const origin = await startOrigin();
  const edge = await startEdge({ originUrl: origin.url, edgeSecret: origin.edgeSecret, refreshSecs: 1, vars: { METRICS_TOKEN } });
  try {
    const api = (await origin.admin("POST", "/admin/v1/apis", { name: "b", base_path: "/b", upstream_url: upstream.url, auth: { type: "none" } })).body;
    const policy = { enabled: false, default_ttl_secs: 300, max_ttl_secs: 3600, routes: [{ path: "/cached/*" }] };
    const set = await origin.admin("PUT", `/admin/v1/apis/${api.id}/cache`, policy);
    if (set.status !== 200) throw new Error(`policy: ${JSON.stringify(set.body)}`);
    await new Promise((r) => setTimeout(r, 1500));
    const rows = [];
    for (const delay of [20, 0]) {
      const setups = [
        { name: `miss: uncached route, upstream ${delay} ms`, url: `${edge.url}/b/uncached/x?delay_ms=${delay}`, runs: [] },
        { name: `hit: cached route, upstream ${delay} ms`, url: `${edge.url}/b/cached/x?delay_ms=${delay}`, runs: [] },
      ];
      for (const s of setups) {
        const warm = await fetch(s.url);
        await warm.arrayBuffer();
        if (warm.status !== 200) throw new Error(`warm-up answered ${warm.status}`);
      }
      await new Promise((r) => setTimeout(r, 300));
      for (let round = 0; round < ROUNDS; round++) {
        for (const s of setups) {
          const before = await hits(edge);
          const r = await wrk(s.url);
          r.hitShare = (await hits(edge)) - before;
          s.runs.push(r);
        }
      }
      const median = (s) => [...s.runs].sort((a, b) => a.rps - b.rps)[Math.floor(s.runs.length / 2)];
      const miss = median(setups[0]);
      const hit = median(setups[1]);
      rows.push([setups[0].name, miss, 1], [setups[1].name, hit, hit.rps / miss.rps]);
    }
    console.log(`\nwrk -t1 -c${CONNECTIONS} -d${DURATION}, median of ${ROUNDS} interleaved rounds, edge under miniflare (workerd), ${new Date().toISOString().slice(0, 10)}\n`);
    console.log("| route | req/s | p50 ms | p99 ms | vs miss | cache hits counted | non-2xx |");
    console.log("|---|---:|---:|---:|---:|---:|---:|");
    for (const [name, r, ratio] of rows) {
      console.log(`| ${name} | ${r.rps.toFixed(0)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${ratio.toFixed(2)} | ${r.hitShare} | ${r.errors} |`);
    }
    console.log(`\nupstream calls on the cached route: ${upstream.count("/cached/x")} (the rest were hits)`);
    console.log("miniflare emulates the Cache API in its Node process: every lookup is a loopback round trip and a");
    console.log("storage read, so here a hit can cost more than a 0 ms upstream on the same machine. On Cloudflare the");
    console.log("cache lives in the data centre; what this run shows is that hits never reach the upstream.");
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
