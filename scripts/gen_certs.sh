#!/usr/bin/env bash
# Development certificates for a spiced cluster, made with the same openssl
# commands as the Spice.ai distributed-mode instructions: a self-signed CA
# (RSA 4096) and, per node, an RSA 4096 key and a certificate signed by the
# CA whose subject is CN=<host> and which carries no extensions.
#
#   scripts/gen_certs.sh [OUT_DIR] [NODE_HOST ...]
#
# OUT_DIR defaults to ./certs; the node hosts default to "localhost". Each
# host H gets H.key and H.crt (the name a peer dials must be that CN), and
# the CA is ca.crt / ca.key. Example for the development cluster:
#
#   scripts/gen_certs.sh certs localhost
#   spiced --role scheduler --node-mtls-ca-certificate-file certs/ca.crt \
#     --node-mtls-certificate-file certs/localhost.crt --node-mtls-key-file certs/localhost.key
#   spiced --role executor --scheduler-address https://localhost:50052 --node-advertise-address localhost \
#     --node-mtls-ca-certificate-file certs/ca.crt \
#     --node-mtls-certificate-file certs/localhost.crt --node-mtls-key-file certs/localhost.key
set -euo pipefail
out="${1:-certs}"
shift || true
hosts=("$@")
[ ${#hosts[@]} -gt 0 ] || hosts=(localhost)
mkdir -p "$out"
cd "$out"
if [ ! -f ca.crt ]; then
  openssl req -x509 -newkey rsa:4096 -keyout ca.key -out ca.crt -days 365 -nodes -subj "/CN=spice-cluster-ca" 2>/dev/null
fi
for h in "${hosts[@]}"; do
  openssl req -newkey rsa:4096 -keyout "$h.key" -out "$h.csr" -nodes -subj "/CN=$h" 2>/dev/null
  openssl x509 -req -in "$h.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -out "$h.crt" -days 365 2>/dev/null
  rm -f "$h.csr"
  echo "$out/$h.crt $out/$h.key (CN=$h)"
done
echo "$out/ca.crt (cluster CA)"
