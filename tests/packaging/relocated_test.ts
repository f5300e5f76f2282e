/**
 * The runtime does not depend on where the source tree is or on the working
 * directory: a copy of the repository in a temporary directory, started from
 * another (empty) directory, serves the built-in sample spicepod (TPC-H at
 * scale factor 0.01) and answers queries.
 *
 * The copy runs with read access to itself, its working directory and Deno's
 * cache only (and write access to its working directory and the system
 * temporary directory), so a read of the original source tree, or of a file
 * relative to the working directory that is not there, fails the test with
 * the path in the log. That is what a compiled binary would meet: its files
 * live in the binary's embedded file system, not next to the user.
 *
 * node_modules is not copied: `deno run --frozen` sets it up in the copy from
 * the lockfile (from Deno's cache; from the npm registry when the cache is cold).
 */

import assert from "node:assert/strict";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** Top-level (or nested) folders of the work tree that are not part of the repository. */
const SKIP = new Set([
  ".git",
  "node_modules",
  "dist",
  "data",
  "tmp",
  ".ci/.tools",
  "bench/results",
]);

/** Copies the repository's files (what git would track: no node_modules, build output or data). */
async function copyRepository(from: string, to: string): Promise<number> {
  let files = 0;
  const walk = async (dir: string): Promise<void> => {
    for await (const e of Deno.readDir(join(from, dir))) {
      const rel = dir === "" ? e.name : `${dir}/${e.name}`;
      if (SKIP.has(rel)) continue;
      if (e.isDirectory) {
        await Deno.mkdir(join(to, rel), { recursive: true });
        await walk(rel);
      } else if (e.isFile) {
        if (e.name.endsWith(".parquet") && !rel.startsWith("tests/fixtures/")) continue;
        await Deno.copyFile(join(from, rel), join(to, rel));
        files++;
      }
    }
  };
  await walk("");
  return files;
}

async function denoDir(): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    stdout: "piped",
    stderr: "null",
  }).output();
  return JSON.parse(new TextDecoder().decode(out.stdout)).denoDir as string;
}

Deno.test({
  name: "a copy of the repository run from an empty directory serves the built-in sample",
  // The first run in the copy sets up node_modules and generates TPC-H; both are bounded below.
  sanitizeResources: true,
  sanitizeOps: true,
  fn: async () => {
    const base = await Deno.makeTempDir({ prefix: "spiced-relocated-" });
    const copy = join(base, "repo");
    const cwd = join(base, "empty-cwd");
    await Deno.mkdir(copy);
    await Deno.mkdir(cwd);
    const logs: string[] = [];
    let child: Deno.ChildProcess | undefined;
    try {
      const copied = await copyRepository(ROOT, copy);
      assert.ok(copied > 10, `copied ${copied} files`);
      const tmp = await Deno.realPath(Deno.env.get("TMPDIR") ?? "/tmp");
      child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--frozen",
          `--allow-read=${copy},${cwd},${await denoDir()}`,
          `--allow-write=${cwd},${tmp}`,
          "--allow-net",
          "--allow-env",
          "--allow-sys",
          join(copy, "main.ts"),
          "--http",
          "127.0.0.1:0",
          "--metrics",
          "127.0.0.1:0",
          "--flight",
          "127.0.0.1:0",
        ],
        cwd,
        env: { NO_COLOR: "1" },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();

      let http = "";
      const started = Promise.withResolvers<void>();
      const pump = async (stream: ReadableStream<Uint8Array>) => {
        let buf = "";
        for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
          buf += chunk;
          let nl;
          while ((nl = buf.indexOf("\n")) >= 0) {
            const line = buf.slice(0, nl);
            buf = buf.slice(nl + 1);
            logs.push(line);
            const m = /HTTP on (\S+?),/.exec(line);
            if (m && http === "") {
              http = `http://${m[1]}`;
              started.resolve();
            }
          }
        }
        if (buf) logs.push(buf);
      };
      const pumps = [pump(child.stdout), pump(child.stderr)];
      const status = child.status;
      status.then((s) =>
        started.reject(new Error(`spiced exited with ${s.code} before listening`))
      );

      // Bounded: node_modules set-up in the copy (from Deno's cache) plus start-up.
      const startTimer = setTimeout(
        () => started.reject(new Error("spiced did not listen within 180 s")),
        180_000,
      );
      try {
        await started.promise;
      } catch (e) {
        throw new Error(`${(e as Error).message}:\n${logs.join("\n")}`);
      } finally {
        clearTimeout(startTimer);
      }

      // The working directory has no spicepod.yaml: the built-in sample is served.
      assert.ok(
        logs.some((l) => l.includes("built-in sample spicepod")),
        `expected the built-in sample to be served:\n${logs.join("\n")}`,
      );

      const end = Date.now() + 120_000;
      let ready = false;
      while (!ready && Date.now() < end) {
        const r = await fetch(`${http}/v1/ready`).catch(() => null);
        await r?.body?.cancel();
        ready = r?.status === 200;
        if (!ready) await new Promise((res) => setTimeout(res, 200));
      }
      assert.ok(ready, `not ready within 120 s:\n${logs.join("\n")}`);

      const res = await fetch(`${http}/v1/sql`, {
        method: "POST",
        headers: { "content-type": "text/plain", accept: "application/json" },
        body: "SELECT COUNT(*) AS n FROM lineitem",
        signal: AbortSignal.timeout(60_000),
      });
      const body = await res.text();
      assert.equal(res.status, 200, body);
      assert.deepEqual(JSON.parse(body), [{ n: 60016 }]);

      // Nothing was written next to the user but what they asked for.
      const left: string[] = [];
      for await (const e of Deno.readDir(cwd)) left.push(e.name);
      assert.deepEqual(left, [], `the runtime wrote into its working directory: ${left}`);

      // No read was refused (a refused read of the source tree would show up here).
      const denied = logs.filter((l) => /NotCapable|Requires read access|PermissionDenied/.test(l));
      assert.deepEqual(denied, [], logs.join("\n"));

      child.kill("SIGTERM");
      const killer = setTimeout(() => child?.kill("SIGKILL"), 15_000);
      const s = await status;
      clearTimeout(killer);
      child = undefined;
      await Promise.all(pumps);
      assert.equal(s.code, 0, `exit status after SIGTERM:\n${logs.join("\n")}`);

      // The protos (read by @grpc/proto-loader at run time, for Flight SQL and the cluster)
      // resolve inside the copy and load from there, under the same permissions.
      const probe = join(copy, "relocated_probe.ts");
      await Deno.writeTextFile(
        probe,
        [
          'import { clusterProto } from "./src/cluster/grpc.ts";',
          'import { flightPackage, protoPath } from "./src/server/flight/proto.ts";',
          "const names = [];",
          'for await (const e of Deno.readDir(new URL("./proto/", import.meta.url))) {',
          '  if (e.name.endsWith(".proto")) names.push(e.name);',
          "}",
          "const paths = names.map((n) => protoPath(n));",
          'const services = Object.keys(flightPackage()).filter((k) => k.endsWith("Service"));',
          "const cluster = Object.keys(clusterProto());",
          "console.log(JSON.stringify({ paths, services, cluster }));",
        ].join("\n"),
      );
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--frozen", `--allow-read=${copy},${cwd}`, "--allow-env", probe],
        cwd,
        env: { NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(60_000),
      }).output();
      const dec = new TextDecoder();
      assert.ok(out.success, dec.decode(out.stderr));
      const probed = JSON.parse(dec.decode(out.stdout).trim().split("\n").pop()!) as {
        paths: string[];
        services: string[];
        cluster: string[];
      };
      assert.ok(probed.paths.length >= 2, `protos found: ${probed.paths}`);
      assert.ok(probed.cluster.length > 0, "the cluster protos load");
      const realCopy = await Deno.realPath(copy);
      for (const p of probed.paths) {
        assert.ok(p.startsWith(realCopy) || p.startsWith(copy), `${p} is outside the copy`);
      }
      assert.ok(
        probed.services.includes("arrow.flight.protocol.FlightService"),
        probed.services.join(),
      );
    } finally {
      if (child) {
        try {
          child.kill("SIGKILL");
        } catch { /* gone */ }
        await child.status;
        await child.stdout.cancel().catch(() => {});
        await child.stderr.cancel().catch(() => {});
      }
      await Deno.remove(base, { recursive: true }).catch(() => {});
    }
  },
});
