#!/usr/bin/env bash
# make e2e: a fresh local control plane, the scenarios of tests/e2e against it, then down (also on
# failure). Prints how long start and scenarios took (also in .upstream/e2e-times).
set -euo pipefail
cd "$(dirname "$0")/.."
upstream/cluster.sh down >/dev/null 2>&1 || true
trap 'upstream/cluster.sh down' EXIT
t0=$SECONDS
upstream/cluster.sh up
t1=$SECONDS
status=0
E2E=1 NODE_OPTIONS="--experimental-vm-modules --disable-warning=ExperimentalWarning" \
  node_modules/.bin/jest --runInBand tests/e2e || status=$?
t2=$SECONDS
printf 'cluster start %ss, e2e scenarios %ss\n' $((t1 - t0)) $((t2 - t1)) | tee .upstream/e2e-times
exit $status
