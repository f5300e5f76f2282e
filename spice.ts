/**
 * Entry point of the `spice` command line (`deno task spice`): the SQL REPL
 * and one-shot queries against a Flight SQL endpoint. See `src/cli/spice/`.
 *
 * @module
 */

import { main } from "./src/cli/spice/mod.ts";

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
