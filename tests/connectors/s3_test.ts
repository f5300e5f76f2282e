/**
 * Tests of the S3 object store against a real S3-compatible server (s3rver in
 * its own process), plus small local HTTP/TCP servers that misbehave on
 * purpose (5xx, 429, never answering) to prove retries and timeouts.
 */
import assert from "node:assert/strict";
import { type S3Store, s3Store } from "../../src/connectors/s3.ts";
import { SpiceError } from "../../src/errors.ts";
import {
  createBucket,
  putObject,
  S3RVER_CREDENTIALS,
  s3rverParams,
  startS3Server,
} from "../support/s3_server.ts";

/** Asserts that `fn` rejects with a SpiceError of `code` whose message matches. */
async function rejectsWith(
  fn: () => Promise<unknown>,
  code: string,
  message: RegExp,
): Promise<SpiceError> {
  let caught: unknown;
  try {
    await fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof SpiceError, `expected a SpiceError, got ${caught}`);
  assert.equal(caught.code, code, caught.message);
  assert.match(caught.message, message);
  return caught;
}

function throwsConfig(url: string, params: Record<string, string>, message: RegExp): void {
  assert.throws(
    () => s3Store(url, params),
    (e: unknown) => e instanceof SpiceError && e.code === "CONFIG" && message.test(e.message),
  );
}

/** Deterministic pseudo-random bytes. */
function bytesOf(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** A Deno.serve server on a free loopback port, stopped by `close()`. */
function serve(handler: (req: Request) => Response | Promise<Response>) {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler);
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    close: () => server.shutdown(),
  };
}

Deno.test("s3Store validates parameters", () => {
  const ok = { s3_endpoint: "http://127.0.0.1:1" };
  throwsConfig("s3://b1/x/", { ...ok, s3_bogus: "1" }, /unknown S3 parameter 's3_bogus'/);
  throwsConfig("s3://b1/x/", { s3_region: "US East" }, /s3_region/);
  throwsConfig("s3://b1/x/", { s3_endpoint: "ftp://h" }, /s3_endpoint/);
  throwsConfig("s3://b1/x/", { s3_endpoint: "not a url" }, /s3_endpoint/);
  throwsConfig("s3://b1/x/", { ...ok, allow_http: "false" }, /allow_http/);
  throwsConfig("s3://b1/x/", { ...ok, allow_http: "maybe" }, /allow_http/);
  throwsConfig("s3://b1/x/", { s3_auth: "magic" }, /s3_auth/);
  throwsConfig("s3://b1/x/", { s3_auth: "key" }, /s3_key/);
  throwsConfig("s3://b1/x/", { s3_key: "k" }, /s3_secret/);
  throwsConfig("s3://b1/x/", { s3_auth: "public", s3_key: "k", s3_secret: "s" }, /s3_key/);
  throwsConfig("s3://b1/x/", { s3_auth: "iam_role", s3_secret: "s" }, /s3_secret/);
  throwsConfig("s3://b1/x/", { client_timeout: "soon" }, /client_timeout/);
  throwsConfig("s3://b1/x/", { client_timeout: "0s" }, /client_timeout/);
  throwsConfig("s3://b1/x/", { client_timeout: "30" }, /client_timeout/);
  throwsConfig("s3://b1/x/", { s3_list_page_size: "0" }, /s3_list_page_size/);
  throwsConfig("s3://b1/x/", { s3_list_page_size: "1001" }, /s3_list_page_size/);
  throwsConfig("http://b1/x/", {}, /invalid S3 URL/);
  throwsConfig("s3:///x", {}, /invalid S3 URL/);
  // Valid combinations construct without any request.
  const valid: Record<string, string>[] = [
    {},
    { ...ok, allow_http: "true", client_timeout: "1m30s", s3_list_page_size: "1000" },
    { s3_key: "k", s3_secret: "s", s3_region: "eu-west-1", client_timeout: "250ms" },
    { s3_auth: "iam_role" },
    { s3_auth: "public", file_format: "parquet" }, // non-S3 params belong to others
  ];
  for (const params of valid) {
    const store = s3Store("s3://b1/x/", params);
    assert.equal(store.stats.requests, 0);
  }
});

Deno.test("s3Store against s3rver", async (t) => {
  const s3 = await startS3Server();
  try {
    const params = s3rverParams(s3.endpoint);
    await createBucket(s3.endpoint, "data");

    // A folder with awkward key names, a folder marker, and neighbours that
    // share the prefix string but not the folder.
    const names = [
      "a&b.bin",
      "q'<\">.bin",
      "sp ace.bin",
      "unicodé.bin",
      "plus+sign.bin",
      "year=2024/month=01/part-0.parquet",
      "year=2024/month=02/part-0.parquet",
    ];
    for (let i = 0; i < 16; i++) names.push(`n/${String(i).padStart(2, "0")}.bin`);
    const sizes = new Map<string, number>();
    for (const [i, name] of names.entries()) {
      const size = 10 + i;
      sizes.set(name, size);
      await putObject(s3.endpoint, "data", `tbl/${name}`, bytesOf(size, i));
    }
    await putObject(s3.endpoint, "data", "tbl/dir/", "");
    await putObject(s3.endpoint, "data", "tbl2/other.bin", "x");
    await putObject(s3.endpoint, "data", "top.bin", "y");
    const big = bytesOf(100_000, 42);
    await putObject(s3.endpoint, "data", "blob/big.bin", big);

    await t.step("lists a folder across pages, relative and sorted", async () => {
      const store = s3Store("s3://data/tbl/", { ...params, s3_list_page_size: "4" });
      const listed = await store.list();
      const expected = [...names].sort();
      assert.deepEqual(listed.map((m) => m.key), expected);
      for (const m of listed) assert.equal(m.size, sizes.get(m.key), m.key);
      // 24 keys (23 objects and the marker) at 4 a page: 6 pages.
      assert.equal(store.stats.requests, 6);
      assert.equal(store.stats.bytes, 0);
    });

    await t.step("a URL without a trailing slash is a folder unless it is an object", async () => {
      const folder = s3Store("s3://data/tbl", params);
      assert.deepEqual((await folder.list()).map((m) => m.key), [...names].sort());
      // One probe, one listing; "tbl2/" is not part of "tbl".
      assert.equal(folder.stats.requests, 2);

      const file = s3Store("s3://data/tbl/a&b.bin", params);
      assert.deepEqual(await file.list(), [{ key: "a&b.bin", size: sizes.get("a&b.bin") }]);
      assert.equal(file.stats.requests, 1);
      const src = file.open({ key: "a&b.bin", size: sizes.get("a&b.bin")! });
      assert.equal(src.name, "s3://data/tbl/a&b.bin");
      assert.deepEqual(await src.read(0, 10), bytesOf(10, 0));

      // open() before list() resolves the layout on the first read.
      const early = s3Store("s3://data/blob/big.bin", params);
      assert.deepEqual(
        await early.open({ key: "big.bin", size: big.length }).read(5, 9),
        big.slice(5, 9),
      );
    });

    await t.step("lists the bucket root without folder markers", async () => {
      const store = s3Store("s3://data", params);
      const keys = (await store.list()).map((m) => m.key);
      assert.ok(keys.includes("top.bin"));
      assert.ok(keys.includes("tbl2/other.bin"));
      assert.ok(keys.includes("tbl/q'<\">.bin"));
      assert.ok(!keys.some((k) => k.endsWith("/")));
      assert.deepEqual(keys, [...keys].sort());
    });

    await t.step("ranged reads return exact bytes and are counted", async () => {
      const store = s3Store("s3://data/blob/", params);
      const [meta] = await store.list();
      assert.deepEqual(meta, { key: "big.bin", size: big.length });
      const src = store.open(meta);
      const before = store.stats.requests;
      assert.equal(await src.size(), big.length); // from the listing: no request
      assert.equal(store.stats.requests, before);
      const ranges: [number, number][] = [
        [0, 8],
        [1000, 5000],
        [big.length - 8, big.length],
        [0, big.length],
        [99_999, 100_000],
      ];
      let bytes = 0;
      for (const [start, end] of ranges) {
        assert.deepEqual(await src.read(start, end), big.slice(start, end), `${start}-${end}`);
        bytes += end - start;
      }
      assert.equal((await src.read(7, 7)).length, 0); // empty: no request
      assert.equal(store.stats.requests, before + ranges.length);
      assert.equal(store.stats.bytes, bytes);
      assert.equal(store.stats.retries, 0);
    });

    await t.step("size() asks with a HEAD when the size is unknown", async () => {
      const store = s3Store("s3://data/tbl/", params);
      const src = store.open({ key: "sp ace.bin", size: -1 });
      assert.equal(await src.size(), sizes.get("sp ace.bin"));
      assert.equal(await src.size(), sizes.get("sp ace.bin")); // cached
      assert.equal(store.stats.requests, 1);
    });

    await t.step("missing keys and buckets are NOT_FOUND, without retries", async () => {
      const store = s3Store("s3://data/tbl/", params);
      await rejectsWith(
        () => store.open({ key: "nope.bin", size: 10 }).read(0, 5),
        "NOT_FOUND",
        /^not found: s3:\/\/data\/tbl\/nope\.bin$/,
      );
      await rejectsWith(
        () => store.open({ key: "nope.bin", size: -1 }).size(),
        "NOT_FOUND",
        /not found: s3:\/\/data\/tbl\/nope\.bin/,
      );
      assert.equal(store.stats.requests, 2);
      await rejectsWith(
        () => s3Store("s3://nobucket/x/", params).list(),
        "NOT_FOUND",
        /^bucket not found: nobucket$/,
      );
      await rejectsWith(
        () => s3Store("s3://nobucket/x/", params).open({ key: "k", size: 1 }).read(0, 1),
        "NOT_FOUND",
        /^bucket not found: nobucket$/,
      );
      // An empty folder is not an error.
      assert.deepEqual(await s3Store("s3://data/empty/", params).list(), []);
    });

    await t.step("a rejected access key is UNAUTHENTICATED", async () => {
      const store = s3Store("s3://data/tbl/", { ...params, s3_key: "WRONG" });
      await rejectsWith(
        () => store.list(),
        "UNAUTHENTICATED",
        /^access denied to s3:\/\/data\/tbl\/ \(check s3_key\/s3_secret or the IAM role\).*InvalidAccessKeyId/,
      );
      await rejectsWith(
        () => store.open({ key: "a&b.bin", size: 10 }).read(0, 1),
        "UNAUTHENTICATED",
        /access denied to s3:\/\/data\/tbl\/a&b\.bin/,
      );
      assert.equal(store.stats.requests, 2);
    });

    await t.step("public access sends unsigned requests", async () => {
      // s3rver serves anonymous requests, like a public bucket.
      const store = s3Store("s3://data/blob/", { s3_endpoint: s3.endpoint, s3_auth: "public" });
      const [meta] = await store.list();
      assert.deepEqual(await store.open(meta).read(10, 20), big.slice(10, 20));
    });

    await t.step("iam_role: credentials from the environment", async () => {
      const env = {
        AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
      };
      const iam = { s3_endpoint: s3.endpoint, s3_auth: "iam_role" };
      assert.equal((await s3Store("s3://data/blob/", iam, { env }).list()).length, 1);
      await rejectsWith(
        () =>
          s3Store("s3://data/blob/", iam, { env: { ...env, AWS_ACCESS_KEY_ID: "NOPE" } }).list(),
        "UNAUTHENTICATED",
        /access denied/,
      );
      await rejectsWith(
        () => s3Store("s3://data/blob/", iam, { env: { AWS_ACCESS_KEY_ID: "x" } }).list(),
        "UNAUTHENTICATED",
        /AWS_SECRET_ACCESS_KEY is not set/,
      );
    });

    await t.step("iam_role: EC2 instance metadata (IMDSv2)", async () => {
      let metadataCalls = 0;
      const imds = serve((req) => {
        metadataCalls++;
        const path = new URL(req.url).pathname;
        if (req.method === "PUT" && path === "/latest/api/token") return new Response("tok-1");
        if (req.headers.get("x-aws-ec2-metadata-token") !== "tok-1") {
          return new Response("", { status: 401 });
        }
        if (path === "/latest/meta-data/iam/security-credentials/") {
          return new Response("spiced-role\n");
        }
        if (path === "/latest/meta-data/iam/security-credentials/spiced-role") {
          return Response.json({
            Code: "Success",
            AccessKeyId: S3RVER_CREDENTIALS.accessKeyId,
            SecretAccessKey: S3RVER_CREDENTIALS.secretAccessKey,
            Token: "session",
            Expiration: new Date(Date.now() + 3_600_000).toISOString(),
          });
        }
        return new Response("", { status: 404 });
      });
      try {
        const store = s3Store("s3://data/blob/", {
          s3_endpoint: s3.endpoint,
          s3_auth: "iam_role",
        }, { env: { AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url } });
        const [meta] = await store.list();
        assert.deepEqual(await store.open(meta).read(0, 4), big.slice(0, 4));
        assert.equal(metadataCalls, 3); // token, role, credentials; then cached
      } finally {
        await imds.close();
      }
    });

    await t.step("iam_role: ECS container credentials with a token", async () => {
      const ecs = serve((req) =>
        req.headers.get("authorization") === "secret-token"
          ? Response.json({
            AccessKeyId: S3RVER_CREDENTIALS.accessKeyId,
            SecretAccessKey: S3RVER_CREDENTIALS.secretAccessKey,
            Token: "session",
            Expiration: new Date(Date.now() + 3_600_000).toISOString(),
          })
          : new Response("", { status: 401 })
      );
      try {
        const iam = { s3_endpoint: s3.endpoint, s3_auth: "iam_role" };
        const env = {
          AWS_CONTAINER_CREDENTIALS_FULL_URI: `${ecs.url}/creds`,
          AWS_CONTAINER_AUTHORIZATION_TOKEN: "secret-token",
        };
        assert.equal((await s3Store("s3://data/blob/", iam, { env }).list()).length, 1);
        await rejectsWith(
          () =>
            s3Store("s3://data/blob/", iam, {
              env: { ...env, AWS_CONTAINER_AUTHORIZATION_TOKEN: "wrong" },
            }).list(),
          "UNAUTHENTICATED",
          /container credentials: 401/,
        );
      } finally {
        await ecs.close();
      }
    });

    await t.step("iam_role: no credentials anywhere is UNAUTHENTICATED", async () => {
      // A port that refuses connections stands in for "not on EC2".
      const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const closedPort = listener.addr.port;
      listener.close();
      const store = s3Store("s3://data/blob/", { s3_endpoint: s3.endpoint, s3_auth: "iam_role" }, {
        env: { AWS_EC2_METADATA_SERVICE_ENDPOINT: `http://127.0.0.1:${closedPort}` },
        metadataTimeoutMs: 500,
      });
      await rejectsWith(() => store.list(), "UNAUTHENTICATED", /no AWS credentials found/);
      await rejectsWith(
        () =>
          s3Store("s3://data/blob/", { s3_endpoint: s3.endpoint, s3_auth: "iam_role" }, {
            env: { AWS_EC2_METADATA_DISABLED: "true" },
          }).list(),
        "UNAUTHENTICATED",
        /no AWS credentials found/,
      );
      assert.equal(store.stats.requests, 0);
    });

    await t.step("retries 5xx and 429 with back-off, then succeeds", async () => {
      // Fails the first two requests, then proxies to s3rver.
      const failures = [
        () =>
          new Response(
            "<Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>",
            { status: 503 },
          ),
        () => new Response("", { status: 429 }),
      ];
      let seen = 0;
      const flaky = serve(async (req) => {
        seen++;
        const fail = failures.shift();
        if (fail) return fail();
        const url = new URL(req.url);
        const res = await fetch(s3.endpoint + url.pathname + url.search, {
          method: req.method,
          headers: req.headers,
        });
        return new Response(res.body, { status: res.status, headers: res.headers });
      });
      try {
        const store = s3Store("s3://data/blob/", { ...params, s3_endpoint: flaky.url }, {
          retryBaseMs: 10,
        });
        const src = store.open({ key: "big.bin", size: big.length });
        assert.deepEqual(await src.read(300, 700), big.slice(300, 700));
        assert.equal(seen, 3);
        assert.deepEqual(store.stats, { requests: 3, bytes: 400, retries: 2 });

        // Listing retries the same way.
        failures.push(() => new Response("", { status: 500 }));
        assert.equal((await store.list()).length, 1);
        assert.equal(store.stats.requests, 5);
        assert.equal(store.stats.retries, 3);
      } finally {
        await flaky.close();
      }
    });
  } finally {
    await s3.stop();
  }
});

Deno.test("s3Store gives up after bounded retries on persistent 5xx", async () => {
  let seen = 0;
  const broken = serve(() => {
    seen++;
    return new Response(
      "<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>",
      { status: 500 },
    );
  });
  try {
    const store = s3Store("s3://data/x/", { s3_endpoint: broken.url }, { retryBaseMs: 5 });
    const err = await rejectsWith(
      () => store.open({ key: "k", size: 10 }).read(0, 10),
      "IO",
      /failed after 4 attempts: 500 InternalError: We encountered an internal error\./,
    );
    assert.match(err.message, /s3:\/\/data\/x\/k/);
    assert.equal(seen, 4);
    assert.deepEqual(store.stats, { requests: 4, bytes: 0, retries: 3 });
  } finally {
    await broken.close();
  }
});

Deno.test("s3Store times out a server that never answers", async () => {
  // Accepts connections and never writes a byte.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const accepting = (async () => {
    try {
      for await (const conn of listener) conns.push(conn);
    } catch { /* listener closed */ }
  })();
  try {
    const store: S3Store = s3Store("s3://data/x/", {
      s3_endpoint: `http://127.0.0.1:${listener.addr.port}`,
      client_timeout: "200ms",
    }, { maxAttempts: 3, retryBaseMs: 10 });
    const started = performance.now();
    await rejectsWith(
      () => store.list(),
      "TIMEOUT",
      /no response within client_timeout \(200ms\), 3 attempts/,
    );
    const elapsed = performance.now() - started;
    // Three bounded attempts plus short back-off: at least 600 ms, well under 3 s.
    assert.ok(elapsed >= 590 && elapsed < 3000, `elapsed ${elapsed} ms`);
    assert.equal(store.stats.requests, 3);
  } finally {
    listener.close();
    await accepting;
    for (const c of conns) {
      try {
        c.close();
      } catch { /* already closed */ }
    }
  }
});

Deno.test("s3Store reports an unreachable endpoint as IO after retries", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  const store = s3Store("s3://data/x/", { s3_endpoint: `http://127.0.0.1:${port}` }, {
    retryBaseMs: 5,
  });
  await rejectsWith(
    () => store.list(),
    "IO",
    /cannot reach http:\/\/127\.0\.0\.1:\d+ after 4 attempts/,
  );
  assert.equal(store.stats.requests, 4);
});

Deno.test("s3Store decodes listing XML and copes with a server that ignores Range", async () => {
  const body = new TextEncoder().encode("0123456789");
  let pages = 0;
  const fake = serve((req) => {
    const url = new URL(req.url);
    if (url.pathname === "/bkt" && url.searchParams.get("list-type") === "2") {
      pages++;
      const token = url.searchParams.get("continuation-token");
      if (url.searchParams.get("prefix") === "loop/") {
        // Truncated without a token: must not loop forever.
        return new Response(
          `<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>`,
        );
      }
      const xml = token === "t+/=1"
        ? `<?xml version="1.0"?>\n<ListBucketResult xmlns="x"><IsTruncated>false</IsTruncated>
            <Contents><Key><![CDATA[p/c<d>.bin]]></Key><Size>3</Size></Contents>
          </ListBucketResult>`
        : `<?xml version="1.0"?>\n<ListBucketResult xmlns="x"><IsTruncated>true</IsTruncated>
            <NextContinuationToken>t+/=1</NextContinuationToken>
            <Contents><Key>p/a&#38;b&#x1F600;.bin</Key><Size>10</Size></Contents>
            <Contents><Key>p/dir/</Key><Size>0</Size></Contents>
            <Contents><Key>p/&apos;q&apos;</Key><Size>1</Size></Contents>
          </ListBucketResult>`;
      return new Response(xml);
    }
    // Ignores Range and sends the whole object.
    return new Response(body);
  });
  try {
    const store = s3Store("s3://bkt/p/", { s3_endpoint: fake.url });
    assert.deepEqual(await store.list(), [
      { key: "'q'", size: 1 },
      { key: "a&b\u{1F600}.bin", size: 10 },
      { key: "c<d>.bin", size: 3 },
    ]);
    assert.equal(pages, 2);
    const src = store.open({ key: "a&b\u{1F600}.bin", size: 10 });
    assert.equal(src.name, "s3://bkt/p/a&b\u{1F600}.bin");
    assert.deepEqual(await src.read(3, 6), body.slice(3, 6));
    assert.equal(store.stats.bytes, 10); // the whole body came over the wire
    await rejectsWith(
      () => s3Store("s3://bkt/loop/", { s3_endpoint: fake.url }).list(),
      "IO",
      /truncated page without a continuation token/,
    );
  } finally {
    await fake.close();
  }
});
