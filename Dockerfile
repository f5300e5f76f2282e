# syntax=docker/dockerfile:1
#
# spiced container image: the runtime and the `spice` client as self-contained
# binaries (deno compile) on a slim Debian.
#
#   docker build -t spiced .
#   docker run --rm -p 8090:8090 -p 50051:50051 -p 9090:9090 spiced
#   docker run --rm -p 8090:8090 -v "$PWD/spicepod.yaml:/app/spicepod.yaml:ro" spiced
#
# The image reads /app/spicepod.yaml; without one it serves the built-in sample
# (TPC-H, scale factor 0.01). Arguments after the image name replace the default
# ones below, so a cluster node repeats the 0.0.0.0 bindings it needs, e.g.
#   docker run spiced --role scheduler --http 0.0.0.0:8090 --flight 0.0.0.0:50051 \
#     --metrics 0.0.0.0:9090 --node-bind-address 0.0.0.0:50052 --node-mtls-...
#
# Multi-arch (linux/amd64, linux/arm64): the build stage runs on the build
# machine's own platform and cross-compiles for the target with
# `deno compile --target`, so no emulation is needed.

ARG DENO_VERSION=2.9.6

FROM --platform=$BUILDPLATFORM denoland/deno:${DENO_VERSION} AS build
ARG TARGETARCH
WORKDIR /src
# Dependencies first, so that this layer is reused while only the source changes.
COPY deno.json deno.lock ./
RUN deno install --frozen
COPY . .
RUN set -eu; \
    case "${TARGETARCH:-amd64}" in \
      amd64) target=x86_64-unknown-linux-gnu ;; \
      arm64) target=aarch64-unknown-linux-gnu ;; \
      *) echo "unsupported TARGETARCH ${TARGETARCH}" >&2; exit 1 ;; \
    esac; \
    deno task compile --target "$target" --out /dist; \
    mkdir -p /out; \
    cp /dist/"$target"/* /out/

FROM debian:bookworm-slim
# curl for the HEALTHCHECK; ca-certificates for DENO_TLS_CA_STORE=system (private S3 endpoints).
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 spice \
 && useradd --system --uid 10001 --gid spice --home-dir /home/spice --create-home \
      --shell /usr/sbin/nologin spice \
 && mkdir -p /app \
 && chown spice:spice /app
COPY --from=build /out/ /usr/local/bin/
WORKDIR /app
USER 10001:10001
ENV NO_COLOR=1
# Keep freed memory in glibc's heap instead of returning it to the kernel: query
# operators allocate and free large typed arrays, and touching fresh pages again
# dominated query time (see README, "Memory allocation").
ENV GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=4294967296:glibc.malloc.top_pad=67108864

# 8090 HTTP API, 50051 Arrow Flight SQL, 9090 Prometheus metrics, 50052 cluster gRPC (mTLS).
EXPOSE 8090 50051 9090 50052

# /health answers 200 while the process serves (readiness, i.e. datasets loaded, is /v1/ready).
# It assumes the default HTTP port 8090.
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8090/health >/dev/null || exit 1

STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/spiced"]
# Inside a container, listening on 127.0.0.1 (the default) would be unreachable from outside.
CMD ["--http", "0.0.0.0:8090", "--flight", "0.0.0.0:50051", "--metrics", "0.0.0.0:9090"]
