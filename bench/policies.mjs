// Benchmark: the per-request cost of a typical policy set (request/response header
// edits + path rewrite + query edit + CORS on a request with an Origin) at the edge in
// workerd (Miniflare), against the same API without policies, in one run with wrk.
// Both routes are unauthenticated so only the policies differ. Run with
// `make bench-policies`.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startOrigin, startUpstream } from "../tests/e2e/lib/procs.mjs";
import { startEdge } from "../tests/e2e/lib/edge.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const DURATION = process.env.BENCH_DURATION ?? "10s";
const CONNECTIONS = process.env.BENCH_CONNECTIONS ?? "32";
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? "3");
const ORIGIN = "https://app.example.com";

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

async function main() {
  process.env.TOLLGATE_BIN ??= path.join(root, "target/release/tollgate");
  const upstream = await startUpstream();
  const origin = await startOrigin();
  const edge = await startEdge({ originUrl: origin.url, edgeSecret: origin.edgeSecret, refreshSecs: 1 });
  try {
    const create = async (name) =>
      (await origin.admin("POST", "/admin/v1/apis", { name, base_path: `/${name}`, upstream_url: upstream.url, auth: { type: "none" } })).body;
    await create("plain");
    const pol = await create("pol");
    const set = await origin.admin("PUT", `/admin/v1/apis/${pol.id}/policies`, {
      request_headers: { set: { "x-env": "prod" }, remove: ["cookie"], rename: { "x-old": "x-new" } },
      response_headers: { remove: ["x-upstream"], add: { "x-served-by": "tollgate" } },
      path_rewrite: { from: "/v1/*", to: "/api/v1/*" },
      query: { set: { source: "edge" } },
      cors: { allowed_origins: [ORIGIN], allowed_methods: ["GET", "POST"], expose_headers: ["x-served-by"] },
    });
    if (set.status !== 200) throw new Error(`policies refused: ${JSON.stringify(set.body)}`);
    const headers = { origin: ORIGIN, "x-old": "1", cookie: "a=b" };
    const setups = [
      { name: "no policies", url: `${edge.url}/plain/v1/hello?x=1`, runs: [] },
      { name: "headers + rewrite + query + CORS", url: `${edge.url}/pol/v1/hello?x=1`, runs: [] },
    ];
    const deadline = Date.now() + 10000;
    for (const s of setups) {
      for (;;) {
        const res = await fetch(s.url, { headers });
        const body = await res.text();
        if (res.status === 200 && (s === setups[0] || res.headers.get("x-served-by"))) break;
        if (Date.now() > deadline) throw new Error(`warm-up of ${s.name}: ${res.status} ${body}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const s of setups) s.runs.push(wrk(s.url, headers));
    }
    const rows = setups.map((s) => [s.name, [...s.runs].sort((a, b) => a.rps - b.rps)[Math.floor(s.runs.length / 2)]]);
    const base = rows[0][1].rps;
    console.log(`\nwrk -t1 -c${CONNECTIONS} -d${DURATION}, median of ${ROUNDS} interleaved rounds, edge under miniflare (workerd), ${new Date().toISOString().slice(0, 10)}\n`);
    console.log("| policies | req/s | p50 ms | p99 ms | vs no policies | non-2xx |");
    console.log("|---|---:|---:|---:|---:|---:|");
    for (const [name, r] of rows) {
      console.log(`| ${name} | ${r.rps.toFixed(0)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${(r.rps / base).toFixed(3)} | ${r.errors} |`);
    }
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
