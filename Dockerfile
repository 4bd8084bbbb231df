# syntax=docker/dockerfile:1
# Flash Deal's three executables in one image: flashdeal-gateway, flashdeal-worker and the
# flashdeal CLI (topics, deals, tokens, verify). Built by compose.yaml; the base images come from
# deploy/versions.env (`docker compose build`, or `docker build --build-arg SWIFT_IMAGE=…
# --build-arg SWIFT_RUNTIME_IMAGE=… .`), so they have no default here.
#
# Two final images (docs/image.md):
#   runtime           (the default, last stage) the production image: binaries built in the Swift
#                     toolchain image, C libraries from the runtime image's distribution
#   runtime-prebuilt  binaries built on a Debian 12 host, with every shared library they load but
#                     glibc, from the build context `host-binaries` (scripts/image build: podman, a
#                     local bookworm base as SWIFT_RUNTIME_IMAGE, --build-context
#                     host-binaries=.build/image-context). No Swift image or registry needed.
# Both start from `runtime-base`, the one place of the runtime layout: the user (uid/gid 10001),
# /app with the files the processes read, the environment, the ports and the command.
ARG SWIFT_IMAGE
ARG SWIFT_RUNTIME_IMAGE

# --------------------------------------------------------------------------------- runtime-base
FROM ${SWIFT_RUNTIME_IMAGE} AS runtime-base
# curl for the health checks (compose.yaml); the user the manifests run as (k8s/: runAsUser and
# runAsGroup 10001).
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends curl ca-certificates \
 && apt-get clean && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 flashdeal \
 && useradd --uid 10001 --gid 10001 --home-dir /app --no-create-home --no-log-init --shell /usr/sbin/nologin flashdeal
WORKDIR /app
# Relative paths the processes read: the rate policies (FLASHDEAL_POLICY_FILE) and the gateway's
# configuration file (FLASHDEAL_GATEWAY_CONFIG).
COPY policies/ policies/
COPY Benchmarks/gateway-policies.yaml Benchmarks/gateway-policies.yaml
COPY Gateway/gateway.yaml Gateway/gateway.yaml
ENV FLASHDEAL_HTTP_HOST=0.0.0.0
EXPOSE 8080 8081
CMD ["flashdeal-gateway"]

# ----------------------------------------------------------------------------- runtime-prebuilt
# Before the build stage on purpose: a builder that builds every stage up to its target (podman
# without --skip-unused-stages) never reaches the Swift image here.
FROM runtime-base AS runtime-prebuilt
# .build/image-context (scripts/image context): bin/ the three binaries, lib/ the libraries under
# their sonames — Swift runtime, Foundation, librdkafka 2.16 from .deps/rdkafka/lib, hiredis,
# mongoc, bson and their dependencies. LD_LIBRARY_PATH is searched before the binaries' RUNPATH
# (host paths that do not exist here).
# hadolint ignore=DL3022
COPY --from=host-binaries lib/ /usr/local/lib/flashdeal/
# hadolint ignore=DL3022
COPY --from=host-binaries bin/ /usr/local/bin/
ENV LD_LIBRARY_PATH=/usr/local/lib/flashdeal
# Fails the build when a binary would not start for want of a library.
RUN for binary in flashdeal-gateway flashdeal-worker flashdeal; do \
      libraries=$(ldd "/usr/local/bin/$binary") || exit 1; \
      case "$libraries" in *"not found"*) echo "$binary: $libraries" >&2; exit 1 ;; esac; \
    done
USER 10001:10001

# ---------------------------------------------------------------------------------------- build
FROM ${SWIFT_IMAGE} AS build
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      libhiredis-dev librdkafka-dev libmongoc-dev libbson-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# librdkafka: Package.swift links the library under the name `rdkafka_wheel` from .deps/rdkafka/lib
# (on a developer machine scripts/setup puts librdkafka 2.16 from the confluent-kafka wheel there,
# because Debian 12's 2.0.2 is too old for the local broker). The base image is Ubuntu 24.04, whose
# librdkafka is 2.3 — what the adapter requires (it checks rd_kafka_version() ≥ 2.3 at start) — so
# the same link name points at the distribution's library. Its soname stays librdkafka.so.1, which
# is what the binaries record and what the runtime stage installs.
RUN mkdir -p .deps/rdkafka/lib \
 && ln -s "$(pkg-config --variable=libdir rdkafka)/librdkafka.so" .deps/rdkafka/lib/librdkafka_wheel.so
COPY . .
# `--product` names one product (given twice, the last wins): one build per executable; the
# second and third reuse the first's modules.
RUN swift build -c release --static-swift-stdlib --product flashdeal-gateway \
 && swift build -c release --static-swift-stdlib --product flashdeal-worker \
 && swift build -c release --static-swift-stdlib --product flashdeal \
 && mkdir -p /out \
 && cp "$(swift build -c release --show-bin-path)"/flashdeal-gateway \
       "$(swift build -c release --show-bin-path)"/flashdeal-worker \
       "$(swift build -c release --show-bin-path)"/flashdeal /out/

# -------------------------------------------------------------------------------------- runtime
FROM runtime-base AS runtime
# The C libraries' runtime packages (Ubuntu 24.04 names).
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      libhiredis1.1.0 librdkafka1 libmongoc-1.0-0t64 libbson-1.0-0t64 \
 && apt-get clean && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/ /usr/local/bin/
USER 10001:10001
