/**
 * Tests of local files as byte sources and local directories as object stores.
 */
import assert from "node:assert/strict";
import { localFileSource, localStore } from "../../src/connectors/local_file.ts";
import { SpiceError } from "../../src/errors.ts";

Deno.test("ranged reads, size, concurrent reads, errors", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const bytes = Uint8Array.from({ length: 100000 }, (_, i) => (i * 31) & 0xff);
    await Deno.writeFile(`${dir}/f.bin`, bytes);
    const src = localFileSource(`${dir}/f.bin`);
    assert.equal(src.name, `${dir}/f.bin`);
    assert.equal(await src.size(), 100000);
    assert.deepEqual(await src.read(10, 20), bytes.slice(10, 20));
    assert.deepEqual(await src.read(5, 5), new Uint8Array(0));
    const parts = await Promise.all(
      [0, 1, 2, 3].map((k) => src.read(k * 25000, k * 25000 + 25000)),
    );
    assert.deepEqual(parts.map((p, k) => p.every((b, i) => b === bytes[k * 25000 + i])), [
      true,
      true,
      true,
      true,
    ]);
    await assert.rejects(
      src.read(99990, 100010),
      (e: SpiceError) => e.code === "IO" && e.message.includes("f.bin"),
    );
    await assert.rejects(src.read(20, 10), (e: SpiceError) => e.code === "INVALID_ARGUMENT");
    const missing = localFileSource(`${dir}/nope.bin`);
    await assert.rejects(
      missing.size(),
      (e: SpiceError) => e.code === "NOT_FOUND" && e.message.includes("nope.bin"),
    );
    await assert.rejects(missing.read(0, 1), (e: SpiceError) => e.code === "NOT_FOUND");
    await assert.rejects(localFileSource(dir).size(), (e: SpiceError) => e.code === "IO");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a directory as an object store: recursive, relative keys with /, sorted", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/year=2024/month=2`, { recursive: true });
    await Deno.mkdir(`${dir}/year=2023`, { recursive: true });
    await Deno.mkdir(`${dir}/empty`);
    await Deno.writeTextFile(`${dir}/year=2024/month=2/b.csv`, "x\n1\n");
    await Deno.writeTextFile(`${dir}/year=2024/a.csv`, "x\n");
    await Deno.writeTextFile(`${dir}/year=2023/z.csv`, "xyz");
    await Deno.writeTextFile(`${dir}/top.csv`, "");
    await Deno.symlink(`${dir}/year=2023`, `${dir}/linked`);
    const store = localStore(dir);
    const list = await store.list();
    assert.deepEqual(list, [
      { key: "linked/z.csv", size: 3 },
      { key: "top.csv", size: 0 },
      { key: "year=2023/z.csv", size: 3 },
      { key: "year=2024/a.csv", size: 2 },
      { key: "year=2024/month=2/b.csv", size: 4 },
    ]);
    const src = store.open(list[4]);
    assert.equal(src.name, `${dir}/year=2024/month=2/b.csv`);
    assert.equal(await src.size(), 4);
    assert.equal(new TextDecoder().decode(await src.read(0, 4)), "x\n1\n");
    await assert.rejects(
      localStore(`${dir}/missing`).list(),
      (e: SpiceError) => e.code === "NOT_FOUND",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
