// OpenID providers for the single sign-on tests: a real one (panva's `oidc-provider`, with
// its development login and consent pages) and a small hostile one whose ID tokens are
// wrong on purpose (another nonce, audience or issuer, or a signature by a foreign key).
import http from "node:http";
import { generateKeyPairSync, createSign, randomBytes } from "node:crypto";
import Provider from "oidc-provider";
import { freePort } from "./procs.mjs";

export const CLIENT_ID = "tollgate-portal";
export const CLIENT_SECRET = randomBytes(24).toString("hex");

/** Starts `oidc-provider` at `issuer` (http://127.0.0.1:PORT) for one client. */
export async function startOidcProvider({ port, redirectUri }) {
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        redirect_uris: [redirectUri],
        grant_types: ["authorization_code"],
        response_types: ["code"],
        token_endpoint_auth_method: "client_secret_basic",
      },
    ],
    // The login name is the subject; everyone's address is <login>@example.com, verified
    // unless the login starts with "unverified".
    async findAccount(_ctx, id) {
      return {
        accountId: id,
        async claims() {
          return { sub: id, email: `${id}@example.com`, email_verified: !id.startsWith("unverified"), name: `SSO ${id}` };
        },
      };
    },
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
    // Put the scope's claims in the ID token (the portal reads only the ID token).
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    cookies: { keys: [randomBytes(16).toString("hex")] },
    features: { devInteractions: { enabled: true } },
  });
  provider.proxy = false;
  const server = provider.listen(port);
  await new Promise((resolve) => server.once("listening", resolve));
  return { issuer, stop: () => new Promise((resolve) => server.close(resolve)) };
}

function b64url(data) {
  return Buffer.from(data).toString("base64url");
}

function signJwt(claims, privateKey, kid) {
  const header = b64url(JSON.stringify({ alg: "RS256", typ: "JWT", kid }));
  const body = b64url(JSON.stringify(claims));
  const signer = createSign("RSA-SHA256");
  signer.update(`${header}.${body}`);
  return `${header}.${body}.${signer.sign(privateKey).toString("base64url")}`;
}

/**
 * A provider that approves every authorization at once and answers the token request with
 * an ID token shaped by `mode`: "good", "wrong-nonce", "wrong-aud", "wrong-iss" or
 * "foreign-key". The nonce it should carry is taken from the authorization request.
 */
export async function startHostileProvider() {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const foreign = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
  const jwk = { ...publicKey.export({ format: "jwk" }), kid: "k1", alg: "RS256", use: "sig" };
  const codes = new Map();
  const state = { mode: "good", tokenRequests: 0 };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, issuer);
    const json = (status, body) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === "/.well-known/openid-configuration") {
      return json(200, {
        issuer,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        jwks_uri: `${issuer}/jwks`,
        response_types_supported: ["code"],
        code_challenge_methods_supported: ["S256"],
      });
    }
    if (url.pathname === "/jwks") return json(200, { keys: [jwk] });
    if (url.pathname === "/authorize") {
      const code = randomBytes(16).toString("hex");
      codes.set(code, { nonce: url.searchParams.get("nonce"), clientId: url.searchParams.get("client_id") });
      const back = new URL(url.searchParams.get("redirect_uri"));
      back.searchParams.set("code", code);
      back.searchParams.set("state", url.searchParams.get("state"));
      res.writeHead(302, { location: back.toString() });
      return res.end();
    }
    if (url.pathname === "/token" && req.method === "POST") {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        state.tokenRequests += 1;
        const form = new URLSearchParams(body);
        const grant = codes.get(form.get("code"));
        codes.delete(form.get("code"));
        if (!grant || !form.get("code_verifier")) return json(400, { error: "invalid_grant", error_description: "unknown or used code" });
        const now = Math.floor(Date.now() / 1000);
        const claims = {
          iss: state.mode === "wrong-iss" ? "http://evil.example" : issuer,
          aud: state.mode === "wrong-aud" ? "someone-else" : grant.clientId,
          sub: "hostile-1",
          iat: now,
          exp: now + 300,
          nonce: state.mode === "wrong-nonce" ? "not-the-nonce" : grant.nonce,
          email: "mallory@example.com",
          email_verified: true,
          name: "Mallory",
        };
        const key = state.mode === "foreign-key" ? foreign : privateKey;
        json(200, { access_token: "x", token_type: "Bearer", id_token: signJwt(claims, key, "k1") });
      });
      return;
    }
    json(404, { error: "not_found" });
  });
  server.listen(port, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  return { issuer, state, stop: () => new Promise((resolve) => server.close(resolve)) };
}
