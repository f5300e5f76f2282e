/**
 * Cluster security from the flags: the three --node-mtls-* files (read and
 * checked at start-up: each must exist and parse, and the key must fit the
 * certificate), or plaintext with --allow-insecure-connections. Errors name
 * the file and exit the process before anything listens.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { createPrivateKey, X509Certificate } from "node:crypto";
import type { Flags } from "../cli/mod.ts";
import { SpiceError } from "../errors.ts";
import type { ClusterSecurity } from "./grpc.ts";

async function readFile(flag: string, path: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound
      ? "no such file"
      : e instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : (e as Error).message;
    throw new SpiceError("CONFIG", `${flag} ${path}: cannot read the file (${why})`);
  }
}

/** Reads and checks the cluster credentials the flags name. */
export async function loadClusterSecurity(flags: Flags): Promise<ClusterSecurity> {
  const { caFile, certFile, keyFile } = flags.mtls;
  if (!caFile && !certFile && !keyFile) {
    if (!flags.allowInsecureConnections) {
      throw new SpiceError(
        "CONFIG",
        "cluster nodes need --node-mtls-ca-certificate-file, --node-mtls-certificate-file and --node-mtls-key-file (or --allow-insecure-connections for development)",
      );
    }
    return { mode: "insecure" };
  }
  const ca = await readFile("--node-mtls-ca-certificate-file", caFile!);
  const cert = await readFile("--node-mtls-certificate-file", certFile!);
  const key = await readFile("--node-mtls-key-file", keyFile!);
  let caCert: X509Certificate, nodeCert: X509Certificate;
  try {
    caCert = new X509Certificate(Buffer.from(ca));
  } catch (e) {
    throw new SpiceError(
      "CONFIG",
      `--node-mtls-ca-certificate-file ${caFile}: not a PEM certificate (${(e as Error).message})`,
    );
  }
  try {
    nodeCert = new X509Certificate(Buffer.from(cert));
  } catch (e) {
    throw new SpiceError(
      "CONFIG",
      `--node-mtls-certificate-file ${certFile}: not a PEM certificate (${(e as Error).message})`,
    );
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(Buffer.from(key));
  } catch (e) {
    throw new SpiceError(
      "CONFIG",
      `--node-mtls-key-file ${keyFile}: not a PEM private key (${(e as Error).message})`,
    );
  }
  if (!nodeCert.checkPrivateKey(privateKey)) {
    throw new SpiceError(
      "CONFIG",
      `--node-mtls-key-file ${keyFile} does not match the certificate in --node-mtls-certificate-file ${certFile}`,
    );
  }
  const now = Date.now();
  if (Date.parse(nodeCert.validTo) < now) {
    throw new SpiceError(
      "CONFIG",
      `--node-mtls-certificate-file ${certFile}: the certificate expired on ${nodeCert.validTo}`,
    );
  }
  if (Date.parse(caCert.validTo) < now) {
    throw new SpiceError(
      "CONFIG",
      `--node-mtls-ca-certificate-file ${caFile}: the CA certificate expired on ${caCert.validTo}`,
    );
  }
  if (!nodeCert.checkIssued(caCert)) {
    throw new SpiceError(
      "CONFIG",
      `--node-mtls-certificate-file ${certFile} is not signed by the CA in --node-mtls-ca-certificate-file ${caFile}`,
    );
  }
  return { mode: "mtls", ca, cert, key };
}
