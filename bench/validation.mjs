// Benchmark: the edge in workerd (Miniflare) with wrk, the petstore API with request
// validation enforced vs the same API with validation off, in one run — `GET
// /pets?limit=20` (path + query) and `POST /pets` with a Pet body (JSON read, parsed
// and checked) — printing req/s, p50, p99 and the ratio to validation off. Run with
// `make bench-validation` (it prints core's per-request figures first).
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync, mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startOrigin, startUpstream } from "../tests/e2e/lib/procs.mjs";
import { startEdge } from "../tests/e2e/lib/edge.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const DURATION = process.env.BENCH_DURATION ?? "10s";
const CONNECTIONS = process.env.BENCH_CONNECTIONS ?? "32";
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? "3");
const PET = JSON.stringify({ id: 10, name: "Rex", tag: "dog" });

function wrk(url, script) {
  const args = ["-t1", `-c${CONNECTIONS}`, `-d${DURATION}`, "--latency"];
  if (script) args.push("-s", script);
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
  const petstore = readFileSync(path.join(root, "../shared/testdata/openapi/v3.0/petstore.yaml"));
  const upstream = await startUpstream();
  const origin = await startOrigin();
  const edge = await startEdge({ originUrl: origin.url, edgeSecret: origin.edgeSecret, refreshSecs: 1 });
  const dir = mkdtempSync(path.join(os.tmpdir(), "tollgate-bench-"));
  const postScript = path.join(dir, "post.lua");
  writeFileSync(postScript, `wrk.method = "POST"\nwrk.body = ${JSON.stringify(PET)}\nwrk.headers["Content-Type"] = "application/json"\n`);
  try {
    for (const [name, mode] of [["on", "enforce"], ["off", "off"]]) {
      const api = (await origin.admin("POST", "/admin/v1/apis", { name, base_path: `/${name}`, upstream_url: upstream.url, auth: { type: "none" } })).body;
      const up = await fetch(`${origin.url}/admin/v1/apis/${api.id}/versions`, {
        method: "POST",
        headers: { authorization: `Bearer ${origin.adminToken}`, "content-type": "application/yaml" },
        body: petstore,
      });
      if (up.status !== 201) throw new Error(`import answered ${up.status}`);
      await origin.admin("POST", `/admin/v1/apis/${api.id}/versions/1.0.0/publish`, {});
      const set = await origin.admin("PUT", `/admin/v1/apis/${api.id}/validation`, { requests: mode });
      if (set.status !== 200) throw new Error(`validation answered ${set.status}`);
    }
    const deadline = Date.now() + 15000;
    while (Date.now() < deadline && (await fetch(`${edge.url}/on/pets?limit=x`)).status !== 400) await new Promise((r) => setTimeout(r, 100));
    const rows = [
      { name: "GET /pets?limit=20, validation off", url: `${edge.url}/off/pets?limit=20`, runs: [] },
      { name: "GET /pets?limit=20, validation enforce", url: `${edge.url}/on/pets?limit=20`, runs: [] },
      { name: "POST /pets (Pet body), validation off", url: `${edge.url}/off/pets`, script: postScript, runs: [] },
      { name: "POST /pets (Pet body), validation enforce", url: `${edge.url}/on/pets`, script: postScript, runs: [] },
    ];
    for (let round = 0; round < ROUNDS; round++) for (const r of rows) r.runs.push(wrk(r.url, r.script));
    console.log(`\nwrk -t1 -c${CONNECTIONS} -d${DURATION}, median of ${ROUNDS} interleaved rounds, edge under miniflare (workerd), ${new Date().toISOString().slice(0, 10)}\n`);
    console.log("| request | req/s | p50 ms | p99 ms | vs validation off | non-2xx |");
    console.log("|---|---:|---:|---:|---:|---:|");
    rows.forEach((row, i) => {
      const r = [...row.runs].sort((a, b) => a.rps - b.rps)[Math.floor(row.runs.length / 2)];
      row.median = r;
      const base = rows[i - (i % 2)].median.rps;
      console.log(`| ${row.name} | ${r.rps.toFixed(0)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${(r.rps / base).toFixed(3)} | ${r.errors} |`);
    });
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
