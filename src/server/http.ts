/**
 * The HTTP server (Deno.serve) in front of the API handler.
 *
 * @module
 */

import { type ApiContext, handleApi } from "./api.ts";
import { bindWithFallback } from "./listen.ts";

/** A running HTTP server. */
export interface HttpServer {
  readonly port: number;
  readonly hostname: string;
  close(): Promise<void>;
}

/** Starts the HTTP API. */
export async function startHttpServer(
  opts: {
    host: string;
    port: number;
    explicit: boolean;
    tls?: { cert: string; key: string } | null;
  },
  ctx: () => ApiContext,
): Promise<HttpServer> {
  const server = await bindWithFallback("HTTP", opts.host, opts.port, opts.explicit, (port) => {
    return new Promise<Deno.HttpServer<Deno.NetAddr>>((resolve, reject) => {
      try {
        const s = Deno.serve({
          hostname: opts.host,
          port,
          ...(opts.tls ? { cert: opts.tls.cert, key: opts.tls.key } : {}),
          onListen: () => {},
          onError: (e) => {
            ctx().log(`http handler error: ${e}`);
            return new Response(
              JSON.stringify({ error: { code: "INTERNAL", message: "internal error" } }),
              {
                status: 500,
                headers: { "content-type": "application/json" },
              },
            );
          },
        }, (req) => handleApi(req, ctx()));
        resolve(s);
      } catch (e) {
        reject(e);
      }
    });
  }, (m) => ctx().log(m));
  return {
    port: server.addr.port,
    hostname: server.addr.hostname,
    close: async () => {
      await server.shutdown();
    },
  };
}
