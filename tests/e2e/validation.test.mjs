// OpenAPI request validation at the edge in workerd: valid requests are forwarded
// (buffered bodies intact); parameter, content-type and body violations are a 400
// problem+json listing each with its JSON pointer; oversized bodies 413; hostile bodies
// (nesting bombs, huge numbers, invalid UTF-8) 400, never 500; unknown paths 404 and
// methods 405; report mode forwards and marks.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startOrigin, startUpstream } from "./lib/procs.mjs";
import { startEdge } from "./lib/edge.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const petstore = readFileSync(path.join(root, "../shared/testdata/openapi/v3.0/petstore.yaml"));
const shop = {
  openapi: "3.1.0",
  info: { title: "Shop", version: "1.0.0" },
  paths: {
    "/items": {
      get: {
        parameters: [
          { name: "kind", in: "query", required: true, schema: { enum: ["book", "game"] } },
          { name: "X-Request-Id", in: "header", required: true, schema: { type: "string", format: "uuid" } },
        ],
        responses: { 200: { description: "ok" } },
      },
      post: {
        requestBody: {
          required: true,
          content: {
            "application/json": {
              schema: {
                type: "object",
                required: ["name", "price"],
                additionalProperties: false,
                properties: {
                  name: { type: "string", minLength: 1 },
                  price: { type: "number", minimum: 0 },
                  tags: { type: "array", items: { type: "object", required: ["name"], properties: { name: { type: "string" } } } },
                  nested: { type: "array", items: { $ref: "#/components/schemas/Node" } },
                },
              },
            },
          },
        },
        responses: { 201: { description: "made" } },
      },
    },
  },
  components: { schemas: { Node: { type: ["array", "integer"], items: { $ref: "#/components/schemas/Node" } } } },
};
const ID = "123e4567-e89b-12d3-a456-426614174000";
let origin, upstream, edge;

async function ok(res, status = 200) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  return res.body;
}

async function publish(apiId, media, body, version) {
  const res = await fetch(`${origin.url}/admin/v1/apis/${apiId}/versions`, {
    method: "POST",
    headers: { authorization: `Bearer ${origin.adminToken}`, "content-type": media },
    body,
  });
  assert.equal(res.status, 201, await res.clone().text());
  await ok(await origin.admin("POST", `/admin/v1/apis/${apiId}/versions/${version}/publish`, {}));
}

async function api(name, spec, media, version, settings) {
  const created = await ok(await origin.admin("POST", "/admin/v1/apis", { name, base_path: `/${name}`, upstream_url: upstream.url, auth: { type: "none" } }), 201);
  await publish(created.id, media, spec, version);
  await ok(await origin.admin("PUT", `/admin/v1/apis/${created.id}/validation`, settings));
}

const call = (p, init) => fetch(`${edge.url}${p}`, init);
const post = (p, body, type = "application/json") => call(p, { method: "POST", headers: type ? { "content-type": type } : {}, body });

async function violations(res) {
  const text = await res.text();
  assert.equal(res.status, 400, text);
  assert.match(res.headers.get("content-type") ?? "", /^application\/problem\+json/);
  const body = JSON.parse(text);
  assert.equal(body.title, "Request does not match the API specification");
  assert.equal(body.status, 400);
  return body.errors.map((e) => e.pointer);
}

before(async () => {
  upstream = await startUpstream();
  origin = await startOrigin();
  edge = await startEdge({ originUrl: origin.url, edgeSecret: origin.edgeSecret, refreshSecs: 1 });
  await api("pets", petstore, "application/yaml", "1.0.0", { requests: "enforce", responses: "report", max_body_bytes: 2048 });
  await api("shop", JSON.stringify(shop), "application/json", "1.0.0", { requests: "enforce", max_body_bytes: 100000 });
  await api("loose", petstore, "application/yaml", "1.0.0", { requests: "report" });
  const deadline = Date.now() + 15000;
  while (Date.now() < deadline && (await call("/loose/pets?limit=x")).headers.get("tollgate-validation") === null) {
    await new Promise((r) => setTimeout(r, 100));
  }
});

after(async () => {
  await edge?.stop();
  await upstream?.stop();
  await origin?.cleanup();
});

test("valid requests are forwarded, bodies intact", async () => {
  const res = await call("/pets/v1/pets?limit=10");
  const echo = await res.json();
  assert.equal(res.status, 200, JSON.stringify(echo));
  assert.equal(echo.path, "/pets");
  assert.equal(res.headers.get("tollgate-validation"), null);
  const pet = JSON.stringify({ id: 7, name: "Rex", tag: "dog" });
  const created = await post("/pets/pets", pet);
  const body = await created.json();
  assert.equal(created.status, 200, JSON.stringify(body));
  assert.equal(body.body, pet, "the buffered body reaches the upstream unchanged");
  const ok = await call("/shop/items?kind=book", { headers: { "x-request-id": ID } });
  assert.equal(ok.status, 200);
});

test("parameter violations are listed with their pointers", async () => {
  assert.deepEqual(await violations(await call("/pets/pets?limit=abc")), ["/query/limit"]);
  assert.deepEqual(await violations(await call("/pets/pets?limit=1000")), ["/query/limit"]);
  assert.deepEqual(await violations(await call("/shop/items")), ["/query/kind", "/header/x-request-id"]);
  assert.deepEqual(await violations(await call("/shop/items?kind=car", { headers: { "x-request-id": "nope" } })), ["/query/kind", "/header/x-request-id"]);
});

test("content type, JSON syntax and body schema violations are 400", async () => {
  assert.deepEqual(await violations(await post("/pets/pets", "{}", "text/plain")), ["/header/content-type"]);
  assert.deepEqual(await violations(await post("/pets/pets", "{\"id\": 1,")), ["/body"]);
  assert.deepEqual(await violations(await call("/pets/pets", { method: "POST" })), ["/body"]);
  const several = JSON.stringify({ name: "", price: -1, tags: [{ name: 1 }, {}], extra: true });
  assert.deepEqual((await violations(await post("/shop/items", several))).sort(), ["/body/extra", "/body/name", "/body/price", "/body/tags/0/name", "/body/tags/1/name"]);
});

test("hostile bodies are 400 or 413, never 500", async () => {
  const big = await post("/pets/pets", JSON.stringify({ id: 1, name: "x".repeat(4000) }));
  assert.equal(big.status, 413, await big.text());
  const bomb = "[".repeat(5000) + "]".repeat(5000);
  assert.deepEqual(await violations(await post("/shop/items", JSON.stringify({ name: "n", price: 1 }).replace("}", `,"nested":${bomb}}`))), ["/body"]);
  assert.deepEqual(await violations(await post("/pets/pets", '{"id": 1e400, "name": "x"}')), ["/body"]);
  assert.deepEqual(await violations(await post("/pets/pets", `{"id": ${"9".repeat(300)}, "name": "x"}`)), ["/body/id"]);
  const utf8 = Buffer.concat([Buffer.from('{"id": 1, "name": "'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
  assert.deepEqual(await violations(await post("/pets/pets", utf8)), ["/body"]);
});

test("unknown paths are 404 and unknown methods 405 with Allow", async () => {
  const missing = await call("/pets/owners");
  assert.equal(missing.status, 404, await missing.text());
  const wrong = await call("/pets/pets", { method: "DELETE" });
  assert.equal(wrong.status, 405, await wrong.text());
  assert.equal(wrong.headers.get("allow"), "GET, POST");
});

test("report mode forwards and marks; responses are reported, never blocked", async () => {
  const res = await call("/loose/pets?limit=abc");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("tollgate-validation"), "failed; count=1");
  const unknown = await call("/loose/owners");
  assert.equal(unknown.status, 200);
  assert.equal(unknown.headers.get("tollgate-validation"), "failed; count=1");
  // The demo upstream echoes a request, not a Pet: the answer is marked, and passed on.
  const answer = await call("/pets/pets/1");
  assert.equal(answer.status, 200);
  assert.match(answer.headers.get("tollgate-response-validation") ?? "", /^failed; count=\d+$/);
  assert.equal((await answer.json()).path, "/pets/1");
});
