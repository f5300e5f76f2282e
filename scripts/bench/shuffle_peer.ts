/**
 * The serving side of the shuffle transport benchmark (scripts/bench/shuffle.ts
 * spawns it): a process holding real shuffle output, served as an executor
 * serves it. Reads lineitem's key and comment columns from the benchmark's
 * Parquet files until `--mb` megabytes of IPC are held, hash-partitions them
 * on l_orderkey into two buckets with the executor's partitioner, keeps them
 * in a ShuffleStore (which encodes them as Arrow IPC on the first fetch and
 * keeps the messages), and serves them with the executor's DoGet writer over
 * mutual TLS. Prints `PORT <port> BYTES <bytes>` once serving.
 *
 * @module
 */

import { join } from "node:path";
import { parseArgs } from "node:util";
import { type RecordBatch, wireBytes } from "../../src/arrow/batch.ts";
import type { Schema } from "../../src/arrow/types.ts";
import {
  bindServer,
  CHANNEL_OPTIONS,
  grpc,
  serviceDefinition,
  toGrpcError,
} from "../../src/cluster/grpc.ts";
import { clusterServerCredentials } from "../../src/cluster/mtls.ts";
import { parseShuffleTicket, writeShuffleMessages } from "../../src/cluster/shuffle_server.ts";
import { localFileSource } from "../../src/connectors/local_file.ts";
import { ShuffleStore } from "../../src/distributed/shuffle_store.ts";
import { layoutOf } from "../../src/exec/expr.ts";
import { Partitioner } from "../../src/exec/partitioner.ts";
import { readParquet } from "../../src/formats/parquet/reader.ts";

const { values } = parseArgs({
  options: {
    data: { type: "string" },
    certs: { type: "string" },
    mb: { type: "string", default: "256" },
  },
});
const limit = Number(values.mb) * 1e6;
const dir = join(values.data!, "lineitem");
const columns = ["l_orderkey", "l_partkey", "l_suppkey", "l_comment"];
const BUCKETS = 2;
const batches: RecordBatch[][] = Array.from({ length: BUCKETS }, () => []);
let schema: Schema | null = null;
let partitioner: Partitioner | null = null;
let bytes = 0;
const files = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(".parquet"))
  .sort();
read: for (const f of files) {
  for await (const b of readParquet(localFileSource(join(dir, f)), { columns })) {
    if (!partitioner) {
      schema = b.schema;
      const key = b.schema.fields[0];
      partitioner = new Partitioner(
        [{ kind: "column", id: 0, type: key.type, name: key.name }],
        layoutOf(columns.map((_, i) => i)),
        BUCKETS,
      );
    }
    const parts = partitioner.split(b);
    for (let k = 0; k < BUCKETS; k++) {
      const part = parts[k];
      if (!part) continue;
      batches[k].push(part);
      bytes += wireBytes(part);
    }
    if (bytes >= limit) break read;
  }
}
const store = new ShuffleStore({ memoryBudget: Infinity, spillDir: await Deno.makeTempDir() });
for (let k = 0; k < BUCKETS; k++) {
  await store.put({ job: "bench", stage: 1, map: 0, bucket: k }, schema!, batches[k]);
}
const sec = {
  mode: "mtls" as const,
  ca: Deno.readFileSync(join(values.certs!, "ca.crt")),
  cert: Deno.readFileSync(join(values.certs!, "localhost.crt")),
  key: Deno.readFileSync(join(values.certs!, "localhost.key")),
};
const server = new grpc.Server(CHANNEL_OPTIONS);
server.addService(serviceDefinition("arrow.flight.protocol.FlightService"), {
  DoGet: async (call: grpc.ServerWritableStream<{ ticket: Uint8Array }, unknown>) => {
    try {
      await writeShuffleMessages(call, await store.read(parseShuffleTicket(call.request.ticket)));
    } catch (e) {
      call.emit("error", toGrpcError(e));
    }
  },
});
const port = await bindServer(
  server,
  "127.0.0.1:0",
  clusterServerCredentials(server, sec, (m) => console.error(m)),
);
console.log(`PORT ${port} BYTES ${bytes}`);
