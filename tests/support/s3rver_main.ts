/**
 * Runs s3rver (a fake S3 server, npm "s3rver") in its own process for tests.
 *
 * Usage: `deno run -A tests/support/s3rver_main.ts <directory> [port]`
 *
 * It binds 127.0.0.1 on the given port (default 0: a free port chosen by the
 * OS, so parallel test runs never race for one), then prints one ready line,
 * `S3RVER_READY <port>`, on stdout. It exits when stdin reaches end of file
 * (so it dies with the test process that started it, even one that crashed)
 * or on SIGTERM/SIGINT.
 *
 * s3rver runs in a separate process because its Koa/winston stack keeps
 * handles open that would trip Deno's test sanitizers, and because a separate
 * process can always be killed.
 *
 * @module
 */
import crypto from "node:crypto";
import { Buffer } from "node:buffer";

// s3rver encrypts ListObjectsV2 continuation tokens with single DES, which
// Deno's node:crypto (like OpenSSL 3 without the legacy provider) lacks: every
// truncated listing would be a 500. Triple DES (EDE) with K1 = K2 = K3 is
// exactly single DES, so map "des" onto "des-ede3-cbc" with the key repeated.
// This must run before s3rver is loaded, hence the dynamic import below.
type CipherFactory = (alg: string, key: Buffer, iv: Buffer) => unknown;
const nodeCrypto = crypto as unknown as Record<string, CipherFactory>;
for (const name of ["createCipheriv", "createDecipheriv"]) {
  const original = nodeCrypto[name];
  nodeCrypto[name] = (alg, key, iv) =>
    alg.toLowerCase() === "des"
      ? original("des-ede3-cbc", Buffer.concat([key, key, key]), iv)
      : original(alg, key, iv);
}

const { default: S3rver } = await import("s3rver");

const directory = Deno.args[0];
if (!directory) {
  console.error("usage: s3rver_main.ts <directory> [port]");
  Deno.exit(2);
}
const port = Number(Deno.args[1] ?? "0");

const server = new S3rver({
  address: "127.0.0.1",
  port,
  directory,
  silent: true,
  // Path-style only: the connector sends path-style requests to a custom
  // endpoint, and "127.0.0.1" must not be read as a virtual-host bucket.
  vhostBuckets: false,
});
const address = await server.run();
console.log(`S3RVER_READY ${address.port}`);

let closing = false;
function shutdown(): void {
  if (closing) return;
  closing = true;
  // Bounded: if close() waits on a keep-alive socket, exit anyway.
  const timer = setTimeout(() => Deno.exit(0), 1000);
  server.close().finally(() => {
    clearTimeout(timer);
    Deno.exit(0);
  });
}
Deno.addSignalListener("SIGTERM", shutdown);
Deno.addSignalListener("SIGINT", shutdown);

// End of stdin means the parent closed it or died: stop.
(async () => {
  try {
    for await (const _ of Deno.stdin.readable) { /* ignore input */ }
  } finally {
    shutdown();
  }
})();
