#!/usr/bin/env bash
# make package: the Configuration package and the Function package (metadata; runtime image only
# where Docker exists) built with the pinned CLI into dist/packages/*.xpkg, then extracted again
# (dist/packages/*.package.yaml.gz, the stream Crossplane's package cache holds) for the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
XP=$PWD/.upstream/bin/crossplane
[[ -x $XP ]] || { echo "error: $XP missing: run make upstream" >&2; exit 1; }
OUT=$PWD/dist/packages
STAGE=$OUT/.stage
rm -rf "$OUT"; mkdir -p "$STAGE/configuration/examples" "$STAGE/function"

# Configuration: xpkg build refuses any object it does not allow at the root (Kustomization,
# EnvironmentConfig, the XRDs' schema source), so stage exactly what the package holds.
cp compositions/crossplane.yaml compositions/definition.yaml compositions/definition-v2.yaml \
   compositions/composition.yaml compositions/composition-v2.yaml \
   clusters/base/crossplane-packages/activation-policy.yaml "$STAGE/configuration/"
cp compositions/examples/claims/*.yaml "$STAGE/configuration/examples/"
"$XP" xpkg build --package-root="$STAGE/configuration" --examples-root="$STAGE/configuration/examples" \
  -o "$OUT/secure-bucket-platform.xpkg"

# Function: the metadata and the step input's CRD. The runtime image is embedded only where a
# Docker daemon can build it (--embed-runtime-image reads from the daemon); without one the
# package has no runtime and Crossplane could not run it: publish from a machine with Docker.
cp -r functions/secure-bucket/package/. "$STAGE/function/"
runtime=()
if [[ ${EMBED_RUNTIME:-auto} != no ]] && command -v docker >/dev/null && docker info >/dev/null 2>&1; then
  docker build -f functions/secure-bucket/Dockerfile -t function-secure-bucket-runtime .
  runtime=(--embed-runtime-image=function-secure-bucket-runtime)
else
  echo "note: no Docker daemon: function-secure-bucket.xpkg is metadata only (no runtime image)" >&2
fi
"$XP" xpkg build --package-root="$STAGE/function" --examples-root="$STAGE/function/examples" "${runtime[@]}" \
  -o "$OUT/function-secure-bucket.xpkg"

for p in secure-bucket-platform function-secure-bucket; do
  "$XP" xpkg extract --from-xpkg "$OUT/$p.xpkg" -o "$OUT/$p.package.yaml.gz"
done
rm -rf "$STAGE"
ls -l "$OUT"
