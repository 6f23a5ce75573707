#!/usr/bin/env bash
# Builds one pinned upstream binary into .upstream/bin, only when its pin (upstream/versions.env) changed.
# usage: upstream/build.sh crossplane|crossplane-core|function-auto-ready|kube-apiserver|kube-controller-manager|kubectl|etcd
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
  kube-apiserver|kube-controller-manager|kubectl) pin="$KUBERNETES_MODULE@$KUBERNETES_VERSION" ;;
  etcd) pin="$ETCD_MODULE@$ETCD_VERSION" ;;
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
  kube-apiserver|kube-controller-manager|kubectl)
    cd upstream/kube
    # Only when the pin moved: re-point every staging module k8s.io/kubernetes requires at v0.0.0 to
    # its published tag v0.<minor>.<patch> (the recipe of kubernetes/kubernetes#79384).
    if ! grep -qE "^\s*(require )?$KUBERNETES_MODULE $KUBERNETES_VERSION\$" go.mod; then
      go mod edit -require="$KUBERNETES_MODULE@$KUBERNETES_VERSION"
      for r in $(go mod edit -json | sed -n 's/.*"Path": "\(k8s\.io\/[^"]*\)".*/\1/p' | sort -u); do
        [[ $r == "$KUBERNETES_MODULE" ]] || go mod edit -dropreplace="$r"; done
      gomod=$("${NICE[@]}" go mod download -json "$KUBERNETES_MODULE@$KUBERNETES_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
      for m in $(grep -E '^\s+k8s\.io/[a-z0-9-]+ v0\.0\.0$' "$gomod" | awk '{print $1}'); do
        go mod edit -replace="$m=$m@v0.${KUBERNETES_VERSION#v1.}"; done
      "${NICE[@]}" go mod tidy
    fi
    minor=$(echo "$KUBERNETES_VERSION" | cut -d. -f2)
    KV="-X k8s.io/component-base/version.gitVersion=$KUBERNETES_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"
    CGO_ENABLED=0 "${NICE[@]}" go build -trimpath -ldflags "-s -w $KV" -o "$BIN/$name" "$KUBERNETES_MODULE/cmd/$name" ;;
  etcd)
    cd upstream/etcd
    "${NICE[@]}" go get "$ETCD_MODULE@$ETCD_VERSION"
    "${NICE[@]}" go mod tidy
    CGO_ENABLED=0 "${NICE[@]}" go build -trimpath -ldflags "-s -w" -o "$BIN/etcd" "$ETCD_MODULE" ;;
esac
echo "$pin" > "$stamp"
echo "built $name ($pin) in $(( $(date +%s) - start ))s" >&2
