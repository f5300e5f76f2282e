/**
 * The dashboard: a static page (`index.html`, `dashboard.js`,
 * `dashboard.css` next to this module, no build step) served at `GET /`
 * that polls `/v1/status` and `/v1/queries` and shows the executors with
 * their slots and heartbeats, running and recent queries with their stage
 * progress, and a chart of the tasks distributed per executor.
 *
 * @module
 */

const FILES: Record<string, { file: string; type: string }> = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/dashboard": { file: "index.html", type: "text/html; charset=utf-8" },
  "/dashboard/dashboard.js": { file: "dashboard.js", type: "text/javascript; charset=utf-8" },
  "/dashboard/dashboard.css": { file: "dashboard.css", type: "text/css; charset=utf-8" },
};

const cache = new Map<string, Uint8Array>();

async function asset(file: string): Promise<Uint8Array> {
  let body = cache.get(file);
  if (!body) {
    body = await Deno.readFile(new URL(`./${file}`, import.meta.url));
    cache.set(file, body);
  }
  return body;
}

/**
 * Serves the dashboard's files; null for any other path. The page holds no
 * data: what it shows comes from the API, with the API's authentication.
 */
export async function serveDashboard(req: Request, url: URL): Promise<Response | null> {
  const path = url.pathname.replace(/\/+$/, "") || "/";
  const f = FILES[path];
  if (!f) return null;
  if (req.method !== "GET" && req.method !== "HEAD") {
    return new Response("use GET", { status: 405, headers: { allow: "GET" } });
  }
  const body = await asset(f.file);
  return new Response(req.method === "HEAD" ? null : body as Uint8Array<ArrayBuffer>, {
    headers: {
      "content-type": f.type,
      "cache-control": "no-cache",
      "x-content-type-options": "nosniff",
    },
  });
}
