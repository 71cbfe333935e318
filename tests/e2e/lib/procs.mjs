// Real processes for end-to-end tests: the origin binary and its demo upstream, each on a
// free 127.0.0.1 port, with a fresh data directory. Everything is killed when the test ends.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { randomBytes } from "node:crypto";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
export const tollgateBin = process.env.TOLLGATE_BIN ?? path.join(root, "target/debug/tollgate");

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export async function waitFor(url, { timeoutMs = 20000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(url);
      if (r.status < 500) return r;
      last = `status ${r.status}`;
    } catch (e) {
      last = e.message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not come up: ${last}`);
}

function run(args, env) {
  const child = spawn(tollgateBin, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  child.stdout.on("data", (d) => (log += d));
  child.stderr.on("data", (d) => (log += d));
  child.log = () => log;
  return child;
}

function stopChild(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
    setTimeout(() => child.kill("SIGKILL"), 3000).unref();
  });
}

export async function startUpstream() {
  const port = await freePort();
  const child = run(["demo-upstream", "--addr", `127.0.0.1:${port}`], {});
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/ready`);
  return { url, port, stop: () => stopChild(child) };
}

export async function startOrigin({ databaseUrl, dataDir, env: extraEnv = {} } = {}) {
  const port = await freePort();
  const dir = dataDir ?? mkdtempSync(path.join(os.tmpdir(), "tollgate-e2e-"));
  const adminToken = randomBytes(24).toString("hex");
  const edgeSecret = randomBytes(24).toString("hex");
  const env = {
    TOLLGATE_ORIGIN_ADDR: `127.0.0.1:${port}`,
    TOLLGATE_DATA_DIR: dir,
    TOLLGATE_ADMIN_TOKEN: adminToken,
    TOLLGATE_EDGE_SECRET: edgeSecret,
    ...(databaseUrl ? { TOLLGATE_DATABASE_URL: databaseUrl } : {}),
    ...extraEnv,
  };
  const url = `http://127.0.0.1:${port}`;
  let child = run(["serve"], env);
  await waitFor(`${url}/healthz`);
  const origin = {
    url,
    adminToken,
    edgeSecret,
    async stop() {
      await stopChild(child);
    },
    async restart() {
      await stopChild(child);
      child = run(["serve"], env);
      await waitFor(`${url}/healthz`);
    },
    async cleanup() {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
    log: () => child.log(),
    async admin(method, pathname, body) {
      const r = await fetch(`${url}${pathname}`, {
        method,
        headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await r.text();
      return { status: r.status, body: text ? JSON.parse(text) : null, headers: r.headers };
    },
  };
  return origin;
}
