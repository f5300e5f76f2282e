/**
 * spiced: the entry point. Parses the flags and starts the runtime for the
 * chosen role (standalone when no --role is given). A bad flag or spicepod
 * prints one line naming it and exits non-zero.
 *
 * @module
 */

import { checkClusterSecurity, HELP_TEXT, parseFlags, VERSION } from "./src/cli/mod.ts";
import { SpiceError, toSpiceError } from "./src/errors.ts";
import { shutdownGraceMs, startRuntime, stderrLogger } from "./src/runtime.ts";

/** Runs spiced with command-line arguments; resolves with the exit code when it stops. */
export async function main(args: string[]): Promise<number> {
  let flags;
  try {
    flags = parseFlags(args, Deno.env.toObject());
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    return 2;
  }
  if (flags.help) {
    console.log(HELP_TEXT);
    return 0;
  }
  if (flags.version) {
    console.log(`spiced ${VERSION}`);
    return 0;
  }
  const sec = checkClusterSecurity(flags);
  if (!sec.ok) {
    console.error(`error: ${sec.message}`);
    return 2;
  }
  if (sec.warning) stderrLogger("WARN", sec.warning);
  let runtime;
  try {
    runtime = await startRuntime(flags, stderrLogger);
  } catch (e) {
    const se = toSpiceError(e);
    console.error(`error: ${se.message}`);
    return se.code === "CONFIG" ? 2 : 1;
  }
  // SIGINT/SIGTERM: a graceful stop (no new work; running queries and tasks get
  // SPICED_SHUTDOWN_GRACE_MS to finish or are handed back); a second signal stops at once.
  const done = Promise.withResolvers<number>();
  let signals = 0;
  const stop = () => {
    if (signals++ > 0) {
      stderrLogger("WARN", "second signal: stopping now");
      done.resolve(1);
      return;
    }
    let grace = 10_000;
    try {
      grace = shutdownGraceMs();
    } catch (e) {
      stderrLogger("WARN", `${(e as Error).message}; using ${grace} ms`);
    }
    stderrLogger("INFO", `shutting down (grace period ${grace} ms)`);
    runtime.stop({ graceMs: grace }).then(() => done.resolve(0), () => done.resolve(1));
  };
  for (const sig of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(sig, stop);
  return await done.promise;
}

if (import.meta.main) {
  const code = await main(Deno.args).catch((e) => {
    console.error(`error: ${e instanceof SpiceError ? e.message : e}`);
    return 1;
  });
  Deno.exit(code);
}
