/**
 * The Dockerfile and the GitHub workflows agree with spiced and with each
 * other (neither can be run in the development sandbox: no Docker engine, no
 * GitHub): one pinned Deno version everywhere, the image's default command is
 * one spiced accepts and binds every endpoint on 0.0.0.0, EXPOSE and the
 * HEALTHCHECK use spiced's ports, the release builds every compile target and
 * a multi-arch image, and CI runs .ci/run.
 */

import assert from "node:assert/strict";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { parseFlags } from "../../src/cli/mod.ts";
import { TARGETS } from "../../scripts/compile.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const read = (p: string) => Deno.readTextFile(join(ROOT, p));

const DOCKERFILE = await read("Dockerfile");
// deno-lint-ignore no-explicit-any
const RELEASE: any = parse(await read(".github/workflows/release.yml"));
// deno-lint-ignore no-explicit-any
const CI: any = parse(await read(".github/workflows/ci.yml"));

/** Dockerfile instructions, with continuation lines joined and comments dropped. */
function instructions(text: string): { op: string; arg: string }[] {
  const lines = text.split("\n").filter((l) => !/^\s*#/.test(l));
  const joined = lines.join("\n").replace(/\\\n/g, " ");
  return joined.split("\n").map((l) => l.trim()).filter((l) => l !== "").map((l) => {
    const m = /^(\S+)\s+([\s\S]*)$/.exec(l)!;
    return { op: m[1].toUpperCase(), arg: m[2].trim() };
  });
}

const INSTR = instructions(DOCKERFILE);
const all = (op: string) => INSTR.filter((i) => i.op === op).map((i) => i.arg);
const one = (op: string) => {
  const found = all(op);
  assert.equal(found.length, 1, `one ${op}`);
  return found[0];
};

/** The Deno version .ci/run installs: the project's pin. */
const PINNED = /^DENO_VERSION=(\S+)$/m.exec(await read(".ci/run"))![1];

// deno-lint-ignore no-explicit-any
function steps(workflow: any): any[] {
  // deno-lint-ignore no-explicit-any
  return Object.values(workflow.jobs).flatMap((j: any) => j.steps ?? []);
}

Deno.test("one Deno version: .ci/run, the Dockerfile's build stage, both workflows", () => {
  assert.ok(all("ARG").includes(`DENO_VERSION=${PINNED}`), "ARG DENO_VERSION");
  assert.match(all("FROM")[0], /denoland\/deno:\$\{DENO_VERSION\} AS build$/);
  assert.equal(RELEASE.env.DENO_VERSION, PINNED);
  for (const wf of [RELEASE, CI]) {
    const setups = steps(wf).filter((s) => String(s.uses ?? "").startsWith("denoland/setup-deno@"));
    assert.ok(setups.length > 0);
    for (const s of setups) {
      assert.ok(
        [PINNED, "${{ env.DENO_VERSION }}"].includes(String(s.with["deno-version"])),
        `setup-deno pinned: ${s.with["deno-version"]}`,
      );
    }
  }
});

Deno.test("Dockerfile: compiles for the image's platform, runs spiced as non-root on 0.0.0.0", () => {
  const froms = all("FROM");
  assert.equal(froms.length, 2, "multi-stage: build and runtime");
  assert.match(froms[0], /--platform=\$BUILDPLATFORM/);
  assert.match(froms[1], /^debian:bookworm-slim$|^gcr\.io\/distroless\/cc/);
  const build = all("RUN").find((r) => r.includes("deno task compile"))!;
  assert.ok(build, "the build stage runs deno task compile");
  assert.match(build, /amd64\) target=x86_64-unknown-linux-gnu/);
  assert.match(build, /arm64\) target=aarch64-unknown-linux-gnu/);
  assert.match(build, /--target "\$target"/);

  assert.deepEqual(JSON.parse(one("ENTRYPOINT")), ["/usr/local/bin/spiced"]);
  assert.deepEqual(all("WORKDIR").at(-1), "/app");
  const user = one("USER");
  assert.ok(!/^(0|root)(:|$)/.test(user), `non-root USER ${user}`);

  const cmd: string[] = JSON.parse(one("CMD"));
  const flags = parseFlags(cmd, {});
  for (const key of ["http", "flight", "metrics"] as const) {
    assert.equal(flags[key].host, "0.0.0.0", `CMD binds --${key} on 0.0.0.0`);
  }
  // The ports are spiced's defaults, so EXPOSE, the HEALTHCHECK and the docs agree.
  const defaults = parseFlags([], {});
  assert.equal(flags.http.port, defaults.http.port);
  assert.equal(flags.flight.port, defaults.flight.port);
  assert.equal(flags.metrics.port, defaults.metrics.port);
  const exposed = one("EXPOSE").split(/\s+/).map(Number).sort();
  const expected = [defaults.http, defaults.flight, defaults.metrics, defaults.nodeBindAddress]
    .map((a) => a.port).sort();
  assert.deepEqual(exposed, expected);

  const health = one("HEALTHCHECK");
  const url = /curl\s+-fsS\s+(\S+)/.exec(health)?.[1];
  assert.equal(url, `http://127.0.0.1:${flags.http.port}/health`);
  assert.ok(all("RUN").some((r) => /apt-get install[^&]*\bcurl\b/.test(r)), "curl is installed");
});

Deno.test(".dockerignore keeps out local state but nothing deno task compile needs", async () => {
  const ignored = (await read(".dockerignore")).split("\n").map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
  for (const p of ["node_modules", "dist", ".git"]) assert.ok(ignored.includes(p), p);
  const needed = [
    "main.ts",
    "spice.ts",
    "deno.json",
    "deno.lock",
    "src",
    "proto",
    "spicepod.yaml",
    "scripts",
  ];
  for (const p of needed) {
    assert.ok(
      !ignored.some((i) => i === p || i === `${p}/` || i === `/${p}` || i === "*"),
      `${p} is in the build context`,
    );
  }
});

Deno.test("release.yml: on v* tags, every compile target, release assets, multi-arch image", () => {
  assert.deepEqual(RELEASE.on.push.tags, ["v*"]);
  const matrix = RELEASE.jobs.binaries.strategy.matrix.include;
  // deno-lint-ignore no-explicit-any
  assert.deepEqual(matrix.map((m: any) => m.target).sort(), [...TARGETS].sort());
  const compile = RELEASE.jobs.binaries.steps.find((s: { run?: string }) =>
    s.run?.includes("deno task compile")
  );
  assert.match(compile.run, /deno task compile --target \$\{\{ matrix\.target \}\}/);
  assert.ok(
    steps(RELEASE).some((s) => /gh release (create|upload)/.test(String(s.run ?? ""))),
    "the binaries become release assets",
  );
  const push = steps(RELEASE).find((s) =>
    String(s.uses ?? "").startsWith("docker/build-push-action@")
  );
  assert.ok(push, "docker/build-push-action");
  assert.equal(push.with.push, true);
  assert.deepEqual(push.with.platforms.split(",").sort(), ["linux/amd64", "linux/arm64"]);
  const login = steps(RELEASE).find((s) => String(s.uses ?? "").startsWith("docker/login-action@"));
  assert.equal(login.with.registry, "ghcr.io");
  assert.equal(RELEASE.jobs.image.permissions.packages, "write");
  assert.equal(RELEASE.jobs["github-release"].permissions.contents, "write");
});

Deno.test("ci.yml runs .ci/run", () => {
  assert.ok(steps(CI).some((s) => /(^|\s)(bash\s+)?\.ci\/run\b/.test(String(s.run ?? ""))));
});
