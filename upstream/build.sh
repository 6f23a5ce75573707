#!/usr/bin/env bash
# Builds one pinned upstream binary into .upstream/bin, only when its pin (upstream/versions.env) changed.
# usage: upstream/build.sh crossplane|crossplane-core|function-auto-ready
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# shellcheck source=/dev/null
source upstream/versions.env
BIN=$ROOT/.upstream/bin
STAMPS=$ROOT/.upstream/stamps
mkdir -p "$BIN" "$STAMPS"
# The repo never skips these tests: no Go means a clear failure.
command -v go >/dev/null || { echo "error: the Go toolchain (go >= 1.26) is needed to build the pinned upstream binaries (upstream/versions.env); install it, see README 'Upstream tools'" >&2; exit 1; }
# Shares 2 cores with others: build at low priority.
NICE=(nice -n 15)
LDV=github.com/crossplane/crossplane-runtime/v2/pkg/version.version

name=$1
case $name in
  crossplane) pin="$CROSSPLANE_CLI_MODULE@$CROSSPLANE_CLI_VERSION" ;;
  crossplane-core) pin="$CROSSPLANE_CORE_MODULE@$CROSSPLANE_CORE_VERSION" ;;
  function-auto-ready) pin="$FUNCTION_AUTO_READY_SOURCE@$FUNCTION_AUTO_READY_VERSION" ;;
  *) echo "error: unknown upstream binary '$name'" >&2; exit 2 ;;
esac
stamp=$STAMPS/$name
if [[ -x $BIN/$name && -f $stamp && "$(cat "$stamp")" == "$pin" ]]; then exit 0; fi

echo "building $name ($pin) at nice 15; cold builds take minutes" >&2
start=$(date +%s)
rm -f "$stamp"
case $name in
  crossplane)
    cd upstream/cli
    "${NICE[@]}" go get "$CROSSPLANE_CLI_MODULE@$CROSSPLANE_CLI_VERSION"
    "${NICE[@]}" go mod tidy
    "${NICE[@]}" go build -trimpath -ldflags "-s -w -X $LDV=$CROSSPLANE_CLI_VERSION" -o "$BIN/crossplane" \
      "$CROSSPLANE_CLI_MODULE/cmd/crossplane" ;;
  crossplane-core)
    cd upstream/core
    # apis/v2 must be raised to the same tag: core's replace => ./apis is ignored for a dependency.
    "${NICE[@]}" go get "$CROSSPLANE_CORE_MODULE@$CROSSPLANE_CORE_VERSION" \
      "github.com/crossplane/crossplane/apis/v2@$CROSSPLANE_CORE_VERSION"
    "${NICE[@]}" go mod tidy
    "${NICE[@]}" go build -trimpath -ldflags "-s -w -X $LDV=$CROSSPLANE_CORE_VERSION" -o "$BIN/crossplane-core" \
      "$CROSSPLANE_CORE_MODULE/cmd/crossplane" ;;
  function-auto-ready)
    cd upstream/function-auto-ready
    go mod edit -replace="$FUNCTION_AUTO_READY_MODULE=$FUNCTION_AUTO_READY_SOURCE@$FUNCTION_AUTO_READY_VERSION"
    "${NICE[@]}" go mod tidy
    # function-auto-ready has no version variable to set.
    "${NICE[@]}" go build -trimpath -ldflags "-s -w" -o "$BIN/function-auto-ready" "$FUNCTION_AUTO_READY_MODULE" ;;
esac
echo "$pin" > "$stamp"
echo "built $name ($pin) in $(( $(date +%s) - start ))s" >&2
