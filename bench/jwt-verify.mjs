// Benchmark (wasm half of `make bench-jwt`): the cost of verifying a JWT inside workerd.
// One Miniflare edge, one API per algorithm with `auth: jwt` plus a key-less `auth: none`
// API; sequential requests, every token distinct (so the verified-token cache is
// bypassed and each request does the signature work), each paired with an `auth: none`
// request. Prints the medians and their difference, i.e. the JWT cost per algorithm,
// plus the cost of a repeated (cached) token.
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

    // Each JWT request is paired with an `auth: none` request right before it, so load
    // drift on a shared machine hits both sides of the difference alike.
    const once = async (url, token) => {
      const start = process.hrtime.bigint();
      const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
      if (res.status !== 200) throw new Error(`${url}: ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
      return Number(process.hrtime.bigint() - start) / 1000;
    };
    const paired = async (url, tokens) => {
      const none = [];
      const jwt = [];
      for (const token of tokens) {
        none.push(await once(`${edge.url}/none/x`, null));
        jwt.push(await once(url, token));
      }
      const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
      return { none: med(none), jwt: med(jwt) };
    };
    const rows = [];
    for (const alg of algs) {
      const r = await paired(`${edge.url}/${alg.toLowerCase()}/x`, Array.from({ length: ROUNDS }, () => tokensFor(alg)).flat());
      rows.push([`jwt ${alg}`, r]);
    }
    const one = signToken(keys.RS256, claims(0));
    rows.push(["jwt RS256, same token (verified-token cache)", await paired(`${edge.url}/rs256/x`, Array(N * ROUNDS).fill(one))]);
    const hsCost = rows[0][1].jwt - rows[0][1].none;
    console.log(`JWT verification inside workerd (Miniflare): ${N * ROUNDS} requests per row, each paired with an auth: none request; medians`);
    console.log("| API auth | µs per request | auth: none, same run | JWT cost (µs) | × HS256 cost |");
    console.log("|---|---:|---:|---:|---:|");
    for (const [name, r] of rows) {
      const cost = r.jwt - r.none;
      // HS256's cost is often below the noise of a request; then no ratio is printed.
      const ratio = name === "jwt HS256" ? "1×" : hsCost >= 20 ? `${(cost / hsCost).toFixed(0)}×` : "n/a";
      console.log(`| ${name} | ${r.jwt.toFixed(0)} | ${r.none.toFixed(0)} | ${cost.toFixed(0)} | ${ratio} |`);
    }
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
