/**
 * Connectors: a spicepod dataset's `from` becomes a TableProvider. `file:`
 * and `s3://` are file listings in Parquet or CSV (see listing_table.ts);
 * `tpch:` is the built-in generator.
 *
 * @module
 */

import { basename, dirname } from "node:path";
import type { TableProvider } from "../catalog/provider.ts";
import { SpiceError } from "../errors.ts";
import type { DatasetSpec } from "../spicepod/mod.ts";
import { isTpchTable } from "./tpch/mod.ts";
import { TpchTableProvider } from "./tpch/provider.ts";
import { type ListingOptions, ListingTable } from "./listing_table.ts";
import { localStore } from "./local_file.ts";
import type { ObjectStore } from "./object_store.ts";
import { s3Store } from "./s3.ts";

function bool(v: string | undefined, dflt: boolean, name: string, dataset: string): boolean {
  if (v === undefined) return dflt;
  if (v === "true") return true;
  if (v === "false") return false;
  throw new SpiceError(
    "CONFIG",
    `dataset "${dataset}": params.${name} must be true or false, got "${v}"`,
  );
}

function listingOptions(spec: DatasetSpec, path: string): ListingOptions {
  const p = spec.params;
  const fmt = (p.file_format ?? (/\.csv$|\.tsv$/i.test(path) ? "csv" : "parquet")).toLowerCase();
  if (fmt !== "parquet" && fmt !== "csv") {
    throw new SpiceError(
      "CONFIG",
      `dataset "${spec.name}": params.file_format: unknown format "${fmt}" (parquet, csv)`,
    );
  }
  return {
    format: fmt,
    csv: {
      hasHeader: bool(p.csv_has_header ?? p.has_header, true, "csv_has_header", spec.name),
      delimiter: p.csv_delimiter ?? p.delimiter ?? (/\.tsv$/i.test(path) ? "\t" : ","),
      quote: p.csv_quote ?? '"',
    },
    hivePartitioning: bool(
      p.hive_partitioning_enabled,
      true,
      "hive_partitioning_enabled",
      spec.name,
    ),
    partitionCols: spec.partitionCols,
  };
}

async function fileStore(path: string, dataset: string): Promise<ObjectStore> {
  let stat: Deno.FileInfo;
  try {
    stat = await Deno.stat(path);
  } catch {
    throw new SpiceError(
      "CONFIG",
      `dataset "${dataset}": from: no such file or directory: ${path}`,
    );
  }
  if (stat.isDirectory) return localStore(path);
  // One file: a store holding just it.
  const dir = localStore(dirname(path));
  const name = basename(path);
  return {
    name: path,
    list: () => Promise.resolve([{ key: name, size: stat.size }]),
    open: (m) => dir.open(m),
  };
}

/** Makes the table provider for a dataset (reads listings and footers, not data). */
export async function createTableProvider(spec: DatasetSpec): Promise<TableProvider> {
  switch (spec.scheme) {
    case "tpch": {
      const table = spec.path.toLowerCase();
      if (!isTpchTable(table)) {
        throw new SpiceError("CONFIG", `dataset "${spec.name}": unknown TPC-H table "${table}"`);
      }
      const sf = Number(spec.params.scale_factor ?? "0.01");
      if (!(sf > 0)) {
        throw new SpiceError(
          "CONFIG",
          `dataset "${spec.name}": params.scale_factor must be a positive number`,
        );
      }
      return new TpchTableProvider(table, sf);
    }
    case "file": {
      const store = await fileStore(spec.path, spec.name);
      return await ListingTable.create(store, listingOptions(spec, spec.path));
    }
    case "s3": {
      const s3Params: Record<string, string> = {};
      for (const [k, v] of Object.entries(spec.params)) {
        if (k.startsWith("s3_") || k === "client_timeout" || k === "allow_http") s3Params[k] = v;
      }
      const store = s3Store(spec.from, s3Params);
      return await ListingTable.create(store, listingOptions(spec, spec.from));
    }
  }
}
