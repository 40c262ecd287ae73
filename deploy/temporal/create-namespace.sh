#!/bin/sh
# Waits for the server, then creates the namespace and the search attribute the workflows set.
set -eu
ns="${TEMPORAL_NAMESPACE:-default}"
i=0
until temporal operator cluster health --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1; do
  i=$((i + 1)); [ "$i" -lt 60 ] || { echo "server not healthy"; exit 1; }; sleep 5
done
temporal operator namespace describe -n "$ns" --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1 \
  || temporal operator namespace create -n "$ns" --address "$TEMPORAL_ADDRESS"
# RancherRelease is queried as typed; Release, its name before, keeps older runs findable.
for name in RancherRelease Release; do
  temporal operator search-attribute create --namespace "$ns" --name "$name" --type KeywordList --address "$TEMPORAL_ADDRESS" || true
done
echo "namespace $ns ready"
