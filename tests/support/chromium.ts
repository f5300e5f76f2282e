/**
 * Headless Chromium for browser tests: the Debian package `chromium`,
 * installed with apt-get when missing (bounded time), driven by npm
 * `playwright-core`. `findChromium` returns the executable, or the reason
 * it cannot be had (the caller prints it and skips).
 *
 * @module
 */

/** Where the Debian package puts the browser. */
export const CHROMIUM = "/usr/bin/chromium";

/** Flags for a quiet, sandbox-free headless run in a container. */
export const CHROMIUM_ARGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function run(
  cmd: string,
  args: string[],
  timeoutMs: number,
): Promise<{ ok: boolean; output: string }> {
  try {
    const out = await new Deno.Command(cmd, {
      args,
      env: { DEBIAN_FRONTEND: "noninteractive" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(timeoutMs),
    }).output();
    const dec = new TextDecoder();
    return { ok: out.success, output: (dec.decode(out.stdout) + dec.decode(out.stderr)).trim() };
  } catch (e) {
    return { ok: false, output: (e as Error).message };
  }
}

/**
 * The Chromium executable, installing the Debian package when it is missing
 * (`apt-get install -y chromium`, bounded to `timeoutMs`); otherwise the
 * reason it is not available.
 */
export async function findChromium(
  timeoutMs = 300_000,
): Promise<{ path: string } | { skip: string }> {
  if (await exists(CHROMIUM)) return { path: CHROMIUM };
  if (Deno.build.os !== "linux") return { skip: `${CHROMIUM} is missing and this is not Linux` };
  if (!(await exists("/usr/bin/apt-get"))) {
    return { skip: `${CHROMIUM} is missing and there is no apt-get to install it` };
  }
  if (Deno.uid?.() !== 0) {
    return {
      skip: `${CHROMIUM} is missing and installing it needs root (apt-get install chromium)`,
    };
  }
  console.log(`${CHROMIUM} is missing: installing the Debian package chromium with apt-get`);
  const end = Date.now() + timeoutMs;
  let install = await run(
    "apt-get",
    ["install", "-y", "--no-install-recommends", "chromium"],
    timeoutMs,
  );
  if (!install.ok && Date.now() < end) {
    // Stale package lists: refresh them once and try again.
    await run("apt-get", ["update"], Math.max(1000, end - Date.now()));
    install = await run(
      "apt-get",
      ["install", "-y", "--no-install-recommends", "chromium"],
      Math.max(1000, end - Date.now()),
    );
  }
  if (await exists(CHROMIUM)) return { path: CHROMIUM };
  return {
    skip: `${CHROMIUM} is missing and apt-get install chromium failed: ${
      install.output.split("\n").slice(-3).join(" | ")
    }`,
  };
}
