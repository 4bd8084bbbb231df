# syntax=docker/dockerfile:1
# Flash Deal's three executables in one image: flashdeal-gateway, flashdeal-worker and the
# flashdeal CLI (topics, deals, tokens, verify). Built by compose.yaml; the base images come from
# deploy/versions.env (`docker compose build`, or `docker build --build-arg SWIFT_IMAGE=…
# --build-arg SWIFT_RUNTIME_IMAGE=… .`), so they have no default here.
ARG SWIFT_IMAGE
ARG SWIFT_RUNTIME_IMAGE

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
RUN swift build -c release --static-swift-stdlib \
      --product flashdeal-gateway --product flashdeal-worker --product flashdeal \
 && mkdir -p /out \
 && cp "$(swift build -c release --show-bin-path)"/flashdeal-gateway \
       "$(swift build -c release --show-bin-path)"/flashdeal-worker \
       "$(swift build -c release --show-bin-path)"/flashdeal /out/

# -------------------------------------------------------------------------------------- runtime
FROM ${SWIFT_RUNTIME_IMAGE}
# The C libraries' runtime packages (Ubuntu 24.04 names) and curl for the health checks.
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      libhiredis1.1.0 librdkafka1 libmongoc-1.0-0t64 libbson-1.0-0t64 curl ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /app flashdeal
WORKDIR /app
COPY --from=build /out/ /usr/local/bin/
# Relative paths the processes read: the rate policies (FLASHDEAL_POLICY_FILE) and the gateway's
# configuration file (FLASHDEAL_GATEWAY_CONFIG).
COPY policies/ policies/
COPY Benchmarks/gateway-policies.yaml Benchmarks/gateway-policies.yaml
COPY Gateway/gateway.yaml Gateway/gateway.yaml
USER flashdeal
ENV FLASHDEAL_HTTP_HOST=0.0.0.0
EXPOSE 8080 8081
CMD ["flashdeal-gateway"]
