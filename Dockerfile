# Image of the aggregation programs: agg-worker (the default command), agg-produce,
# agg-summaries, agg-import and agg-dashboard.
# Used by docker-compose.yml; build alone with `docker build -t agg-pipeline .`.

# --- build stage: compilers and -dev packages stay here --------------------------
FROM debian:bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
        gcc libc6-dev make pkg-config \
        protobuf-c-compiler libprotobuf-c-dev librdkafka-dev libhiredis-dev \
        libmicrohttpd-dev libjansson-dev libssl-dev libzip-dev libxml2-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# .dockerignore keeps build/, bin/ and .git out, so nothing built on the host (e.g. a
# sanitizer build) can pass for up to date here.
COPY . .
# Only the programs: the image does not need the test programs.
RUN make -j"$(nproc)" bin/agg-worker bin/agg-produce bin/agg-summaries bin/agg-import \
        bin/agg-dashboard

# --- runtime stage: only the shared libraries the programs link -----------------
FROM debian:bookworm-slim
# ca-certificates: for Kafka TLS (security.protocol=SSL via -X) against a public CA.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
        librdkafka1 libhiredis0.14 libprotobuf-c1 libmicrohttpd12 libjansson4 libssl3 \
        libzip4 libxml2 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/bin/agg-worker /src/bin/agg-produce /src/bin/agg-summaries \
     /src/bin/agg-import /src/bin/agg-dashboard /usr/local/bin/
# The programs need no privileges and write no files.
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin agg
USER agg
CMD ["agg-worker"]
