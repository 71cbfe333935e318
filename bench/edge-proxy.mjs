// Benchmark: one run measures direct-to-upstream, through a pass-through edge route and
// through the edge with API-key auth, all on this machine with wrk, and prints a table of
// req/s, p50, p99 and the ratio to direct, plus the worker's wasm size.
// Run with `make bench` (builds release binaries and the worker first).
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startOrigin, startUpstream } from "../tests/e2e/lib/procs.mjs";
import { startEdge, buildDir } from "../tests/e2e/lib/edge.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const DURATION = process.env.BENCH_DURATION ?? "10s";
const CONNECTIONS = process.env.BENCH_CONNECTIONS ?? "32";

function wrk(url, headers = {}) {
  const args = ["-t1", `-c${CONNECTIONS}`, `-d${DURATION}`, "--latency"];
  for (const [k, v] of Object.entries(headers)) args.push("-H", `${k}: ${v}`);
  args.push(url);
  const out = spawnSync("wrk", args, { encoding: "utf8" });
  if (out.status !== 0) throw new Error(`wrk failed: ${out.stderr}`);
  const text = out.stdout;
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)[1]);
  const ms = (label) => {
    const m = new RegExp(`\\s${label}%\\s+([\\d.]+)(us|ms|s)`).exec(text);
    return Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2]];
  };
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  return { rps, p50: ms(50), p99: ms(99), errors: non2xx ? Number(non2xx[1]) : 0 };
}

async function main() {
  process.env.TOLLGATE_BIN ??= path.join(root, "target/release/tollgate");
  const upstream = await startUpstream();
  const origin = await startOrigin();
  const edge = await startEdge({ originUrl: origin.url, edgeSecret: origin.edgeSecret });
  try {
    const api = (await origin.admin("POST", "/admin/v1/apis", { name: "keyed", base_path: "/keyed", upstream_url: upstream.url })).body;
    await origin.admin("POST", "/admin/v1/apis", { name: "open", base_path: "/open", upstream_url: upstream.url, auth: { type: "none" } });
    const consumer = (await origin.admin("POST", "/admin/v1/consumers", { name: "bench", email: "bench@example.com" })).body;
    const key = (await origin.admin("POST", "/admin/v1/keys", { consumer_id: consumer.id, api_id: api.id })).body.key;
    const auth = { authorization: `Bearer ${key}` };
    for (const [u, h] of [[`${edge.url}/open/warm`, {}], [`${edge.url}/keyed/warm`, auth]]) {
      const r = await fetch(u, { headers: h });
      if (r.status !== 200) throw new Error(`warm-up ${u} answered ${r.status}: ${await r.text()}`);
    }
    const rows = [
      ["direct to upstream", wrk(`${upstream.url}/hello`)],
      ["edge, pass-through route", wrk(`${edge.url}/open/hello`)],
      ["edge, API-key auth", wrk(`${edge.url}/keyed/hello`, auth)],
    ];
    const base = rows[0][1].rps;
    console.log(`\nwrk -t1 -c${CONNECTIONS} -d${DURATION}, edge under miniflare (workerd), ${new Date().toISOString().slice(0, 10)}\n`);
    console.log("| path | req/s | p50 ms | p99 ms | vs direct | non-2xx |");
    console.log("|---|---:|---:|---:|---:|---:|");
    for (const [name, r] of rows) {
      console.log(`| ${name} | ${r.rps.toFixed(0)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${(r.rps / base).toFixed(3)} | ${r.errors} |`);
    }
    const wasm = readFileSync(path.join(buildDir, "index_bg.wasm"));
    console.log(`\nworker wasm: ${(wasm.length / 1024).toFixed(0)} KiB raw, ${(gzipSync(wasm, { level: 9 }).length / 1024).toFixed(0)} KiB gzipped`);
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
