#!/usr/bin/env bash
# Builds everything the end-to-end test (test/e2e/real-trivy.test.ts) and
# `npm run demo` scan with, from files the project owns; nothing is pulled:
#   .tools/bin/fixture-db, .tools/bin/fixture-images   the builders (tools/), with Go
#   .tools/e2e/goapp/fixture-goapp                     a Go binary linked against old golang.org/x/text
#   .tools/e2e/trivy-cache/{db,java-db}                a Trivy DB from test/fixtures/e2e/advisories.json
#   .tools/e2e/images/                                 an OCI layout of test/fixtures/e2e/images.json
# Idempotent: Go's build cache makes a rerun take seconds. Modules come from the Go module proxy.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=$ROOT/.tools/bin
OUT=$ROOT/.tools/e2e
FIXTURES=$ROOT/test/fixtures/e2e
export CGO_ENABLED=0

if ! command -v go >/dev/null 2>&1; then
  echo "build-e2e-fixtures: Go is not installed; the end-to-end test will be skipped" >&2
  exit 1
fi
mkdir -p "$BIN" "$OUT"
started=$(date +%s)
go -C tools/fixture-db build -trimpath -o "$BIN/fixture-db" .
go -C tools/fixture-images build -trimpath -o "$BIN/fixture-images" .
GOOS=linux GOARCH=amd64 go -C tools/fixture-goapp build -trimpath -o "$OUT/goapp/fixture-goapp" .

# Build into fresh directories, then swap them in, so a reader never sees half a DB.
rm -rf "$OUT/trivy-cache.new" "$OUT/images.new"
"$BIN/fixture-db" -advisories "$FIXTURES/advisories.json" -cache-dir "$OUT/trivy-cache.new"
"$BIN/fixture-images" build -spec "$FIXTURES/images.json" -out "$OUT/images.new" -var "goapp=$OUT/goapp/fixture-goapp"
rm -rf "$OUT/trivy-cache" "$OUT/images"
mv "$OUT/trivy-cache.new" "$OUT/trivy-cache"
mv "$OUT/images.new" "$OUT/images"
echo "build-e2e-fixtures: done in $(( $(date +%s) - started )) s (DB in $OUT/trivy-cache, images in $OUT/images)" >&2
