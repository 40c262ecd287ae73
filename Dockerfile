# Scan worker: Node 20 on a glibc base (the Temporal core bridge needs glibc) with the Trivy CLI.
FROM aquasec/trivy:0.74.0 AS trivy

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

FROM node:20.20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=trivy /usr/local/bin/trivy /usr/local/bin/trivy
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
