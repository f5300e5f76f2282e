/**
 * The `spice` command line (`deno task spice`): `spice sql` opens a SQL REPL
 * against a Flight SQL endpoint, or runs one statement with `--query`.
 *
 * ```sh
 * spice sql --flight-endpoint grpc://localhost:50051
 * spice sql -q "SELECT count(*) FROM lineitem"
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { toSpiceError } from "../../errors.ts";
import { VERSION } from "../flags.ts";
import { DEFAULT_FLIGHT_ENDPOINT, FlightSqlClient, parseEndpoint } from "./flight_client.ts";
import { LineEditor, type LineSource, PipedLines } from "./line_editor.ts";
import { type ReplOutput, runRepl, runStatement } from "./repl.ts";
import { splitStatements } from "./statement_buffer.ts";

export { DEFAULT_FLIGHT_ENDPOINT, FlightSqlClient, parseEndpoint } from "./flight_client.ts";
export type {
  FlightClientOptions,
  FlightEndpoint,
  StatementResult,
  TableEntry,
} from "./flight_client.ts";
export { runRepl, runStatement } from "./repl.ts";

/** The usage text of `spice`. */
export const SPICE_HELP = `Usage: spice <command> [flags]

Commands:
  sql        Start a SQL REPL against a Flight SQL endpoint
  version    Print the version
  help       Show this help

Flags of 'spice sql':
  --flight-endpoint <URL>   grpc://host:port, grpc+tls://host:port or host:port
                            (default ${DEFAULT_FLIGHT_ENDPOINT})
  --api-key <KEY>           API key, sent as 'authorization: Bearer <KEY>'
  --tls-root-cert <FILE>    PEM root certificate to trust (implies TLS)
  -q, --query <SQL>         Run the statement(s), print the result and exit
  -h, --help                Show this help
`;

function writer(file: { writeSync(p: Uint8Array): number }): (text: string) => void {
  const enc = new TextEncoder();
  return (text) => {
    const bytes = enc.encode(text);
    let off = 0;
    while (off < bytes.length) off += file.writeSync(bytes.subarray(off));
  };
}

/** Standard output and error as a REPL output. */
function stdio(): ReplOutput {
  return { out: writer(Deno.stdout), err: writer(Deno.stderr) };
}

/**
 * Runs `spice` with the given arguments and returns the exit code: 0 on
 * success, 1 when a `--query` statement failed, 2 on a usage error.
 */
export async function main(args: readonly string[]): Promise<number> {
  const io = stdio();
  const [command, ...rest] = args;
  switch (command) {
    case undefined:
    case "help":
    case "-h":
    case "--help":
      io.out(SPICE_HELP);
      return command === undefined ? 2 : 0;
    case "version":
    case "--version":
      io.out(`spice ${VERSION}\n`);
      return 0;
    case "sql":
      return await sqlCommand(rest, io);
    default:
      io.err(`Error: unknown command ${JSON.stringify(command)}\n\n${SPICE_HELP}`);
      return 2;
  }
}

async function sqlCommand(args: readonly string[], io: ReplOutput): Promise<number> {
  let values: {
    "flight-endpoint"?: string;
    "api-key"?: string;
    "tls-root-cert"?: string;
    query?: string;
    help?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        "flight-endpoint": { type: "string" },
        "api-key": { type: "string" },
        "tls-root-cert": { type: "string" },
        query: { type: "string", short: "q" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    io.err(`Error: ${(e as Error).message}\n\n${SPICE_HELP}`);
    return 2;
  }
  if (values.help) {
    io.out(SPICE_HELP);
    return 0;
  }
  const endpoint = values["flight-endpoint"] ?? DEFAULT_FLIGHT_ENDPOINT;
  let client: FlightSqlClient;
  try {
    parseEndpoint(endpoint); // fail here, with the flag's name, before anything else
    const certFile = values["tls-root-cert"];
    const tlsRootCert = certFile === undefined ? null : await Deno.readFile(certFile);
    client = new FlightSqlClient({ endpoint, apiKey: values["api-key"] ?? null, tlsRootCert });
  } catch (e) {
    io.err(`Error: ${toSpiceError(e).message}\n`);
    return 2;
  }
  try {
    if (values.query !== undefined) {
      const { statements, rest } = splitStatements(values.query);
      if (rest.trim() !== "") statements.push(rest.trim());
      for (const sql of statements) {
        if (!await runStatement(client, sql, io)) return 1;
      }
      return 0;
    }
    const input: LineSource = Deno.stdin.isTerminal() ? new LineEditor() : new PipedLines();
    try {
      await runRepl({ ...io, client, input });
    } finally {
      input.close();
    }
    return 0;
  } finally {
    client.close();
  }
}
