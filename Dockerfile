# Scan worker: Node 20 on a glibc base (the Temporal core bridge needs glibc) with the Trivy CLI
# and go-containerregistry's crane, whose HEAD lets an unchanged image be re-matched without a pull.
FROM aquasec/trivy:0.74.0 AS trivy

# crane at the version client/crane-cli.ts pins (the one Trivy v0.74.0 builds with), and for the
# git sources' worker mikefarah's yq v4, which Rancher's export script reads build.yaml with.
FROM golang:1.26.8-bookworm AS go-tools
RUN CGO_ENABLED=0 GOBIN=/out go install github.com/google/go-containerregistry/cmd/crane@v0.21.9 \
 && CGO_ENABLED=0 GOBIN=/out go install github.com/mikefarah/yq/v4@v4.44.3

FROM node:20.20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY core core
COPY host host
COPY cache cache
COPY cluster cluster
COPY workflows workflows
COPY activities activities
COPY worker worker
COPY client client
COPY test test
RUN npx tsc -p tsconfig.json && node lib/worker/bundle.js && npm prune --omit=dev

FROM node:20.20-bookworm-slim AS worker
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=trivy /usr/local/bin/trivy /usr/local/bin/trivy
COPY --from=go-tools /out/crane /usr/local/bin/crane
WORKDIR /app
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/lib lib
COPY package.json ./
# Named volumes take the ownership of these mount points.
RUN mkdir -p /data /reports /trivy-cache && chown node:node /data /reports /trivy-cache
USER node
ENV NODE_ENV=production
# The prebuilt workflow bundle in lib/ is used when present; SIGTERM drains the worker.
ENTRYPOINT ["node", "lib/client/cli.js", "worker"]

# The git sources' worker (`worker --git-lists`, compose profile `heads`): Rancher's export script
# needs git, bash, jq, yq and Go, which fetches the toolchain the ref's go.mod names. Go's caches
# live in the volume, so the exporter's first build (minutes) is the only cold one.
FROM worker AS git-lists
USER root
RUN apt-get update && apt-get install -y --no-install-recommends git jq && rm -rf /var/lib/apt/lists/*
COPY --from=go-tools /usr/local/go /usr/local/go
COPY --from=go-tools /out/yq /usr/local/bin/yq
RUN mkdir -p /git-cache && chown node:node /git-cache
ENV PATH=/usr/local/go/bin:$PATH GOCACHE=/git-cache/go-build GOMODCACHE=/git-cache/go-mod IMAGE_SCANNING_GIT_CACHE_DIR=/git-cache/sources
USER node
ENTRYPOINT ["node", "lib/client/cli.js", "worker", "--git-lists"]
