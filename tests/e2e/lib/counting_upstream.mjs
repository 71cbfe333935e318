// An upstream for cache tests: counts the requests it gets per path and answers with
// headers chosen by the query string (cc, expires, vary, etag, lm, cookie, status,
// delay_ms), echoing the consumer and Accept-Language it saw.
import http from "node:http";

export async function startCountingUpstream() {
  const counts = new Map();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, "http://x");
    const n = (counts.get(url.pathname) ?? 0) + 1;
    counts.set(url.pathname, n);
    const q = url.searchParams;
    const headers = { "content-type": "application/json" };
    if (q.has("cc")) headers["cache-control"] = q.get("cc");
    if (q.has("expires")) headers["expires"] = q.get("expires");
    if (q.has("vary")) headers["vary"] = q.get("vary");
    if (q.has("etag")) headers["etag"] = q.get("etag");
    if (q.has("lm")) headers["last-modified"] = q.get("lm");
    if (q.has("cookie")) headers["set-cookie"] = "session=abc; Path=/";
    const body = JSON.stringify({
      n,
      path: url.pathname,
      lang: req.headers["accept-language"] ?? null,
      consumer: req.headers["x-tollgate-consumer-id"] ?? null,
    });
    const answer = () => {
      res.writeHead(Number(q.get("status") ?? 200), headers);
      res.end(req.method === "HEAD" ? undefined : body);
    };
    const delay = Number(q.get("delay_ms") ?? 0);
    if (delay > 0) setTimeout(answer, delay);
    else answer();
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    count: (pathname) => counts.get(pathname) ?? 0,
    stop: () => new Promise((r) => server.close(r)),
  };
}
