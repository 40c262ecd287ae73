#!/bin/sh
# Creates the Temporal and visibility databases and applies every versioned schema; safe to run again.
set -eu
: "${POSTGRES_SEEDS:?POSTGRES_SEEDS is required}"
: "${POSTGRES_USER:?POSTGRES_USER is required}"
port="${DB_PORT:-5432}"
tool() { temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -u "$POSTGRES_USER" -p "$port" "$@"; }
nc -z -w 10 "$POSTGRES_SEEDS" "$port"
for db in temporal temporal_visibility; do
  schema=$([ "$db" = temporal ] && echo temporal || echo visibility)
  tool --db "$db" create || true
  tool --db "$db" setup-schema -v 0.0 || true
  tool --db "$db" update-schema -d "/etc/temporal/schema/postgresql/v12/$schema/versioned"
done
# The result store of the workers (IMAGE_SCANNING_STORE): its table is made by the workers themselves.
tool --db image_scanning create || true
echo "schema ready"
