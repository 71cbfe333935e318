// A JWKS issuer for end-to-end tests: node:crypto key pairs (RSA, EC P-256, Ed25519, and an
// HMAC secret on its own key set), tokens signed with node:crypto, and an HTTP server that
// publishes the keys and counts how often it is asked.
import http from "node:http";
import { createHmac, generateKeyPairSync, randomBytes, sign as cryptoSign, constants } from "node:crypto";
import { freePort } from "./procs.mjs";

const b64 = (buf) => Buffer.from(buf).toString("base64url");

export function makeKeys() {
  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const ed = generateKeyPairSync("ed25519");
  const keys = {
    RS256: { kid: "rs", alg: "RS256", ...rsa },
    PS256: { kid: "ps", alg: "PS256", ...generateKeyPairSync("rsa", { modulusLength: 2048 }) },
    ES256: { kid: "ec", alg: "ES256", ...ec },
    EdDSA: { kid: "ed", alg: "EdDSA", ...ed },
    HS256: { kid: "hs", alg: "HS256", secret: randomBytes(32) },
  };
  return keys;
}

export function jwkOf(key) {
  if (key.secret) return { kty: "oct", kid: key.kid, alg: key.alg, use: "sig", k: b64(key.secret) };
  return { ...key.publicKey.export({ format: "jwk" }), kid: key.kid, alg: key.alg, use: "sig" };
}

function signature(key, input, alg = key.alg) {
  const data = Buffer.from(input);
  switch (alg) {
    case "RS256":
      return cryptoSign("sha256", data, key.privateKey);
    case "PS256":
      return cryptoSign("sha256", data, { key: key.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
    case "ES256":
      return cryptoSign("sha256", data, { key: key.privateKey, dsaEncoding: "ieee-p1363" });
    case "EdDSA":
      return cryptoSign(null, data, key.privateKey);
    case "HS256":
      return createHmac("sha256", key.secret).update(data).digest();
    default:
      throw new Error(`no signer for ${alg}`);
  }
}

/// A compact JWS of `claims` under `header` (alg and kid default to the key's).
export function signToken(key, claims, header = {}) {
  const h = { alg: key.alg, kid: key.kid, typ: "at+jwt", ...header };
  const input = `${b64(JSON.stringify(h))}.${b64(JSON.stringify(claims))}`;
  return `${input}.${b64(signature(key, input))}`;
}

/// A token whose header and signature are exactly as given (for forgeries).
export function rawToken(header, claims, sig = Buffer.alloc(0)) {
  return `${b64(JSON.stringify(header))}.${b64(JSON.stringify(claims))}.${b64(sig)}`;
}

export function hmacToken(secret, header, claims) {
  const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(claims))}`;
  return `${input}.${b64(createHmac("sha256", secret).update(input).digest())}`;
}

/// Serves `sets[path]` (a function returning the JWK list) and counts requests per path.
export async function startJwksServer(sets) {
  const port = await freePort();
  const counts = {};
  let down = false;
  const server = http.createServer((req, res) => {
    counts[req.url] = (counts[req.url] ?? 0) + 1;
    const set = sets[req.url];
    if (down || !set) {
      res.writeHead(down ? 503 : 404).end();
      return;
    }
    res.writeHead(200, { "content-type": "application/jwk-set+json", "cache-control": "max-age=600" });
    res.end(JSON.stringify({ keys: set() }));
  });
  await new Promise((r) => server.listen(port, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    setDown(value) {
      down = value;
    },
    stop: () => new Promise((r) => server.close(r)),
  };
}
