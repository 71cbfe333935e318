// Benchmark (wasm half of `make bench-jwt`): the cost of verifying a JWT inside workerd.
// One Miniflare edge, one API per algorithm with `auth: jwt` plus a key-less `auth: none`
// API; N sequential requests each, every token distinct (so the verified-token cache is
// bypassed and each request does the signature work), interleaved over rounds. Prints
// the per-request time and its difference to `auth: none`, i.e. the JWT cost per
// algorithm, plus the cost of a repeated (cached) token.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startOrigin, startUpstream } from "../tests/e2e/lib/procs.mjs";
import { startEdge } from "../tests/e2e/lib/edge.mjs";
import { makeKeys, jwkOf, signToken, startJwksServer } from "../tests/e2e/lib/jwks.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const N = Number(process.env.BENCH_REQUESTS ?? "200");
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? "3");
const ISS = "https://idp.bench";

async function timeRequests(url, tokens) {
  const start = process.hrtime.bigint();
  for (const token of tokens) {
    const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    if (res.status !== 200) throw new Error(`${url}: ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
  }
  return Number(process.hrtime.bigint() - start) / 1000 / tokens.length;
}

async function main() {
  process.env.TOLLGATE_BIN ??= path.join(root, "target/release/tollgate");
  const keys = makeKeys();
  const upstream = await startUpstream();
  const origin = await startOrigin();
  const jwks = await startJwksServer({
    "/public": () => [keys.RS256, keys.PS256, keys.ES256, keys.EdDSA].map(jwkOf),
    "/hs": () => [jwkOf(keys.HS256)],
  });
  const edge = await startEdge({ originUrl: origin.url, edgeSecret: origin.edgeSecret, refreshSecs: 1 });
  try {
    await origin.admin("POST", "/admin/v1/apis", { name: "none", base_path: "/none", upstream_url: upstream.url, auth: { type: "none" } });
    const algs = ["HS256", "RS256", "PS256", "ES256", "EdDSA"];
    for (const alg of algs) {
      const set = alg === "HS256" ? "hs" : "public";
      const auth = { type: "jwt", jwks_url: `${jwks.url}/${set}`, issuer: ISS, audience: "bench" };
      const res = await origin.admin("POST", "/admin/v1/apis", { name: alg, base_path: `/${alg.toLowerCase()}`, upstream_url: upstream.url, auth });
      if (res.status !== 201) throw new Error(JSON.stringify(res.body));
    }
    const claims = (i) => ({ iss: ISS, aud: "bench", sub: `con_${i % 10}`, exp: Math.floor(Date.now() / 1000) + 3600, jti: `t${i}-${Math.random()}` });
    const tokensFor = (alg) => Array.from({ length: N }, (_, i) => signToken(keys[alg], claims(i)));
    // Warm up: routes present, JWKS cached, isolate hot.
    for (let tries = 0; ; tries++) {
      const r = await fetch(`${edge.url}/hs256/x`, { headers: { authorization: `Bearer ${tokensFor("HS256")[0]}` } });
      if (r.status === 200) break;
      if (tries > 100) throw new Error(`edge not ready: ${r.status}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    for (const alg of algs) await timeRequests(`${edge.url}/${alg.toLowerCase()}/x`, tokensFor(alg).slice(0, 20));
    await timeRequests(`${edge.url}/none/x`, Array(20).fill(null));

    const results = Object.fromEntries(["none", ...algs, "cached"].map((k) => [k, []]));
    for (let round = 0; round < ROUNDS; round++) {
      results.none.push(await timeRequests(`${edge.url}/none/x`, Array(N).fill(null)));
      for (const alg of algs) results[alg].push(await timeRequests(`${edge.url}/${alg.toLowerCase()}/x`, tokensFor(alg)));
      const one = signToken(keys.RS256, claims(0));
      results.cached.push(await timeRequests(`${edge.url}/rs256/x`, Array(N).fill(one)));
    }
    const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const base = med(results.none);
    const hs = med(results.HS256) - base;
    console.log(`JWT verification inside workerd (Miniflare), ${N} sequential requests × ${ROUNDS} rounds, median`);
    console.log("| API auth | µs per request | JWT cost (µs, vs auth: none) | × HS256 cost |");
    console.log("|---|---:|---:|---:|");
    console.log(`| none | ${base.toFixed(0)} | – | – |`);
    for (const alg of algs) {
      const us = med(results[alg]);
      const cost = us - base;
      console.log(`| jwt ${alg} | ${us.toFixed(0)} | ${cost.toFixed(0)} | ${alg === "HS256" ? "1×" : `${(cost / Math.max(hs, 1)).toFixed(1)}×`} |`);
    }
    const cached = med(results.cached);
    console.log(`| jwt RS256, same token (verified-token cache) | ${cached.toFixed(0)} | ${(cached - base).toFixed(0)} | – |`);
  } finally {
    await edge.stop();
    await jwks.stop();
    await upstream.stop();
    await origin.cleanup();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
