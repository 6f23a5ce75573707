#!/usr/bin/env bash
# A real control plane on one machine, loopback only (make cluster-up / cluster-down / cluster-status):
# etcd, kube-apiserver (RBAC, admission incl. ValidatingAdmissionPolicy), kube-controller-manager
# (garbage collector, namespaces), Crossplane core out of cluster (External package runtime, no
# webhooks), our function and function-auto-ready over mTLS registered as digest-pinned Function
# packages from the local xpkg cache, a TypeScript provider-aws stand-in, then clusters/<cluster>
# applied stage by stage as Flux would. Everything lives in .upstream/cluster; binaries in .upstream/bin.
# usage: upstream/cluster.sh up|down|status
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=$ROOT/.upstream/bin
C=$ROOT/.upstream/cluster
KUBECONFIG_OUT=$ROOT/.upstream/kubeconfig
ACCOUNT=$ROOT/.upstream/account.json
CLUSTER=${CLUSTER:-staging}
SHARED_DIR=${SHARED_DIR:-$ROOT/../shared}
export PATH=$BIN:$PATH
# Ports, all on 127.0.0.1; a base port moves them all (two clusters on one machine).
P=${CLUSTER_PORT_BASE:-16000}
ETCD_PORT=$((P + 379)); ETCD_PEER=$((P + 380)); API_PORT=$((P + 443)); KCM_PORT=$((P + 257))
XP_METRICS=$((P + 80)); XP_HEALTH=$((P + 81)); FN_PORT=$((P + 501)); AR_PORT=$((P + 502))
API=https://127.0.0.1:$API_PORT
source upstream/versions.env
CORE_CRDS=$(go env GOMODCACHE)/github.com/crossplane/crossplane/v2@$CROSSPLANE_CORE_VERSION/cluster/crds
# The order processes start in; down stops them in reverse.
COMPONENTS=(etcd kube-apiserver kube-controller-manager function-secure-bucket function-auto-ready crossplane provider-standin)

say() { echo "cluster: $*" >&2; }
die() { echo "cluster: error: $*" >&2; exit 1; }
alive() { [[ -f $C/run/$1.pid ]] && kill -0 "$(cat "$C/run/$1.pid")" 2>/dev/null; }
k() { kubectl --kubeconfig "$KUBECONFIG_OUT" "$@"; }

# wait_for <seconds> <what> <command...>: polls until the command succeeds.
wait_for() {
  local limit=$1 what=$2; shift 2
  local start=$SECONDS
  until "$@" >/dev/null 2>&1; do
    (( SECONDS - start < limit )) || die "$what not ready after ${limit}s (logs: $C/log)"
    sleep 0.5
  done
}

# start <name> <command...>: in the background, its own session, log in log/<name>.log; skipped when running.
start() {
  local name=$1; shift
  if alive "$name"; then return 0; fi
  say "starting $name"
  setsid "$@" >"$C/log/$name.log" 2>&1 < /dev/null &
  echo $! >"$C/run/$name.pid"
}

# ---- certificates (openssl): one CA for the apiserver's clients and serving, one for function mTLS ----
cert() { # cert <dir> <file> <ca> <subject> <ext>
  local dir=$1 f=$2 ca=$3 subj=$4 ext=$5
  [[ -f $dir/$f.crt ]] && return 0
  openssl req -new -newkey rsa:2048 -nodes -keyout "$dir/$f.key" -subj "$subj" -out "$dir/$f.csr" 2>/dev/null
  openssl x509 -req -in "$dir/$f.csr" -CA "$dir/$ca.crt" -CAkey "$dir/$ca.key" -CAcreateserial -days 365 \
    -extfile <(printf '%s\n' "$ext") -out "$dir/$f.crt" 2>/dev/null
  rm -f "$dir/$f.csr"
}
ca() { # ca <dir> <name> <cn>
  [[ -f $1/$2.crt ]] && return 0
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1/$2.key" -subj "/CN=$3" -days 365 -out "$1/$2.crt" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}
CLIENT='basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth'
SERVER='basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1,DNS:kubernetes,DNS:kubernetes.default.svc,IP:10.0.0.1'

certificates() {
  local pki=$C/pki
  mkdir -p "$pki"
  ca "$pki" ca local-cluster-ca
  cert "$pki" apiserver ca /CN=kube-apiserver "$SERVER"
  # Each client is system:masters: this cluster is a test harness, its RBAC under test is the tenants'.
  cert "$pki" admin ca "/CN=admin/O=system:masters" "$CLIENT"
  cert "$pki" controller-manager ca "/CN=system:kube-controller-manager/O=system:masters" "$CLIENT"
  cert "$pki" crossplane ca "/CN=crossplane/O=system:masters" "$CLIENT"
  cert "$pki" provider ca "/CN=provider-aws-standin/O=system:masters" "$CLIENT"
  [[ -f $pki/sa.key ]] || { openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null; openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null; }
  # Function mTLS: Crossplane's client certificate and each function's server certificate, one CA.
  local x=$C/pki/xfn
  mkdir -p "$x"
  ca "$x" ca local-xfn-ca
  cert "$x" function ca /CN=function "${SERVER/extendedKeyUsage=serverAuth/extendedKeyUsage=serverAuth,clientAuth}"
  cert "$x" crossplane ca /CN=crossplane "$CLIENT"
  for d in function crossplane; do
    mkdir -p "$x/$d-dir"
    cp "$x/ca.crt" "$x/$d-dir/ca.crt"; cp "$x/$d.crt" "$x/$d-dir/tls.crt"; cp "$x/$d.key" "$x/$d-dir/tls.key"
  done
}

kubeconfig() { # kubeconfig <file> <cert name>
  local pki=$C/pki
  KUBECONFIG=$1 kubectl config set-cluster local --server="$API" --certificate-authority="$pki/ca.crt" --embed-certs >/dev/null
  KUBECONFIG=$1 kubectl config set-credentials "$2" --client-certificate="$pki/$2.crt" --client-key="$pki/$2.key" --embed-certs >/dev/null
  KUBECONFIG=$1 kubectl config set-context local --cluster=local --user="$2" >/dev/null
  KUBECONFIG=$1 kubectl config use-context local >/dev/null
}

# ---- packages: built with the pinned CLI, put in the xpkg cache under the digest Crossplane looks up ----
# crossplane-runtime pkg/xpkg: FriendlyID(source, digest) = ToDNSLabel(trunc(source,50)-trunc(digest,12)).
friendly_id() { # friendly_id <source> <sha256:hex>
  local s="${1:0:50}-${2:0:12}" out="" i c
  for (( i = 0; i < ${#s} && i <= 62; i++ )); do
    c=${s:i:1}
    if [[ $c =~ [a-z0-9] ]]; then out+=$c
    elif [[ $c =~ [./:-] ]] && (( i != 0 && i != 62 && i != ${#s} - 1 )); then out+=-; fi
  done
  out=${out##-}; echo "${out%%-}"
}

packages() {
  local dir=$C/packages cache=$C/xpkg-cache
  mkdir -p "$dir" "$cache"
  local -A roots=(
    [function-secure-bucket]=$ROOT/functions/secure-bucket/package
    [function-auto-ready]=$(go env GOMODCACHE)/github.com/crossplane-contrib/function-auto-ready@$FUNCTION_AUTO_READY_VERSION/package
  )
  echo '{' >"$dir/packages.json.tmp"
  local sep=''
  for name in function-secure-bucket function-auto-ready; do
    [[ -d ${roots[$name]} ]] || die "${roots[$name]} missing (make upstream downloads function-auto-ready's module)"
    # Metadata-only packages (no runtime image): the External runtime runs the functions here.
    crossplane xpkg build --package-root="${roots[$name]}" --ignore='examples/*' -o "$dir/$name.xpkg" >/dev/null 2>"$C/log/xpkg-$name.log" \
      || die "xpkg build $name failed: $(cat "$C/log/xpkg-$name.log")"
    local digest="sha256:$(sha256sum "$dir/$name.xpkg" | cut -c1-64)" source="xpkg.crossplane.io/local/$name"
    local id; id=$(friendly_id "$source" "$digest")
    [[ -f $cache/$id.gz ]] || crossplane xpkg extract --from-xpkg "$dir/$name.xpkg" -o "$cache/$id.gz" >/dev/null
    printf '%s  "%s": "%s@%s"\n' "$sep" "$name" "$source" "$digest" >>"$dir/packages.json.tmp"
    sep=','
  done
  echo '}' >>"$dir/packages.json.tmp"
  mv "$dir/packages.json.tmp" "$dir/packages.json"
}

# ---- the Flux stages ----
ready_xrds() { [[ -z $(k get xrd -o jsonpath='{range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Established")].status}{"\n"}{end}' | grep -v '=True$') ]]; }
revision_of() { k get functionrevisions -l "pkg.crossplane.io/package=$1" -o jsonpath='{.items[0].metadata.name}'; }
# The External runtime's part, done for Deployments by runtime_function.go: tell Crossplane where the
# function listens, and name the function's TLS server Secret (the revision establisher waits for it,
# revision/establisher.go getWebhookTLSCert, and reads its tls.crt).
endpoint() { # endpoint <function> <port>
  local rev secret=$1-tls-server x=$C/pki/xfn
  wait_for 120 "FunctionRevision of $1" revision_of "$1"
  rev=$(revision_of "$1")
  k -n crossplane-system create secret tls "$secret" --cert "$x/function.crt" --key "$x/function.key" --dry-run=client -o yaml | k apply -f - >/dev/null
  k patch functionrevision "$rev" --subresource=status --type=merge \
    -p "{\"status\":{\"endpoint\":\"dns:///localhost:$2\",\"tlsServerSecretName\":\"$secret\"}}" >/dev/null
}
revision_healthy() { [[ $(k get functionrevision "$(revision_of "$1")" -o jsonpath='{.status.conditions[?(@.type=="RevisionHealthy")].status}') == True ]]; }
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# The runtime's health report (runtime_function.go sets RuntimeHealthy from its Deployment): ours is
# the function process listening. Added to the conditions, not replacing those the revision controller owns.
runtime_healthy() { # runtime_healthy <function> <port>
  wait_for 60 "$1 listening on $2" listening "$2"
  wait_for 120 "FunctionRevision of $1 RevisionHealthy" revision_healthy "$1"
  # Already reported (cluster-up run again): the list may hold each type once.
  [[ -n $(k get functionrevision "$(revision_of "$1")" -o jsonpath='{.status.conditions[?(@.type=="RuntimeHealthy")].status}') ]] && return 0
  local now; now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  k patch functionrevision "$(revision_of "$1")" --subresource=status --type=json -p "[{\"op\":\"add\",\"path\":\"/status/conditions/-\",\"value\":{\"type\":\"RuntimeHealthy\",\"status\":\"True\",\"reason\":\"HealthyPackageRevision\",\"lastTransitionTime\":\"$now\"}}]" >/dev/null
}
function_healthy() { [[ $(k get function "$1" -o jsonpath='{.status.conditions[?(@.type=="Healthy")].status}') == True ]]; }
function_installed() { [[ $(k get function "$1" -o jsonpath='{.status.conditions[?(@.type=="Installed")].status}') == True ]]; }

# What `flux bootstrap` installs that the stages rely on (gotk-components.yaml is a placeholder in Git):
# the flux-system namespace and the controllers' identities with Flux's cluster-reconciler binding
# (fluxcd/flux2 manifests/rbac/reconciler.yaml). The controllers themselves do not run here.
flux_bootstrap() {
  k apply --server-side --force-conflicts --field-manager=flux-bootstrap -f - >"$C/log/flux-bootstrap.log" 2>&1 <<'EOF'
apiVersion: v1
kind: Namespace
metadata:
  name: flux-system
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: kustomize-controller
  namespace: flux-system
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: helm-controller
  namespace: flux-system
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: cluster-reconciler-flux-system
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: cluster-admin
subjects:
  - kind: ServiceAccount
    name: kustomize-controller
    namespace: flux-system
  - kind: ServiceAccount
    name: helm-controller
    namespace: flux-system
EOF
}

apply_stages() {
  flux_bootstrap || die "flux bootstrap objects: $(cat "$C/log/flux-bootstrap.log")"
  node dist/tools/cluster/flux-stages.js "$CLUSTER" "$C/stages" "$C/packages/packages.json" >"$C/stages.tsv" 2>"$C/log/stages.log" \
    || die "flux-stages failed: $(cat "$C/log/stages.log")"
  sed 's/^/cluster: /' "$C/log/stages.log" >&2
  local file as id
  while IFS=$'\t' read -r file as id; do
    say "applying Flux Kustomization $id as ${as/#-/admin (bootstrap)}"
    local who=()
    [[ $as != - ]] && who=(--as="$as")
    # Flux applies server-side with its own field manager; a retry covers CRDs a moment from established.
    local n=0
    until k apply --server-side --force-conflicts --field-manager=kustomize-controller "${who[@]}" -f "$file" >"$C/log/apply-${id//\//-}.log" 2>&1; do
      (( ++n < 20 )) || die "applying $id failed: $(tail -5 "$C/log/apply-${id//\//-}.log")"
      sleep 2
    done
    case $id in
      flux-system/crossplane-packages)
        endpoint function-secure-bucket "$FN_PORT"; endpoint function-auto-ready "$AR_PORT"
        runtime_healthy function-secure-bucket "$FN_PORT"; runtime_healthy function-auto-ready "$AR_PORT"
        # Flux's health check for this stage: Installed and Healthy (clusters/base/sync/crossplane-packages.yaml).
        for f in function-secure-bucket function-auto-ready; do
          wait_for 120 "Function $f Installed" function_installed "$f"
          wait_for 120 "Function $f Healthy" function_healthy "$f"
        done ;;
      flux-system/platform)
        wait_for 180 "XRDs Established" ready_xrds ;;
    esac
  done <"$C/stages.tsv"
}

core_init() {
  # CRDS_PATH, not a flag: kong spells the CRDsPath field --cr-ds-path. Core v2.4.0's init always runs
  # its TLS step (it fails on an empty CA Secret name); those Secrets go unused: core start reads our files.
  KUBECONFIG=$C/crossplane.kubeconfig CRDS_PATH=$CORE_CRDS TLS_CA_SECRET_NAME=crossplane-root-ca \
    TLS_CLIENT_SECRET_NAME=crossplane-tls-client crossplane-core core init --enable-webhooks=false \
    >"$C/log/crossplane-init.log" 2>&1
}

up() {
  local t0=$SECONDS
  for b in etcd kube-apiserver kube-controller-manager kubectl crossplane crossplane-core function-auto-ready; do
    [[ -x $BIN/$b ]] || die "$BIN/$b missing: run make cluster-bins (or make cluster-up, which builds them)"
  done
  [[ -f dist/functions/secure-bucket/src/main.js && -f dist/tools/cluster/provider-standin.js ]] || die "dist/ missing: make build"
  [[ -d $CORE_CRDS ]] || die "Crossplane core CRDs not found at $CORE_CRDS (make upstream downloads the core module)"
  mkdir -p "$C/log" "$C/run"
  certificates
  kubeconfig "$KUBECONFIG_OUT" admin
  for who in controller-manager crossplane provider; do kubeconfig "$C/$who.kubeconfig" "$who"; done
  local pki=$C/pki

  # No fsync: a throwaway cluster on a disk shared with others.
  start etcd etcd --name local --data-dir "$C/etcd" --unsafe-no-fsync \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER" \
    --initial-cluster "local=http://127.0.0.1:$ETCD_PEER" --log-level warn
  wait_for 60 etcd curl -sf "http://127.0.0.1:$ETCD_PORT/health"

  # RBAC on; admission: the default plugins (ValidatingAdmissionPolicy among them, GA since 1.30).
  start kube-apiserver kube-apiserver --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$API_PORT" \
    --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" --client-ca-file "$pki/ca.crt" \
    --authorization-mode RBAC --service-cluster-ip-range 10.0.0.0/24 \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
    --profiling=false --v=1
  wait_for 180 kube-apiserver k get --raw /readyz

  start kube-controller-manager kube-controller-manager --kubeconfig "$C/controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$KCM_PORT" --leader-elect=false \
    --controllers garbagecollector,namespace,serviceaccount,serviceaccount-token,clusterrole-aggregation \
    --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" --use-service-account-credentials=false --v=1

  # Provider, Flux and Istio CRDs (the cluster's add-ons; Providers are not installed as packages).
  say "installing provider-aws, Flux and Istio CRDs"
  for d in provider-aws provider-aws-namespaced flux istio; do
    k apply --server-side --force-conflicts -f "$SHARED_DIR/schemas/$d" >"$C/log/crds-$d.log" || die "CRDs $d: $(tail -3 "$C/log/crds-$d.log")"
  done
  k create namespace crossplane-system --dry-run=client -o yaml | k apply -f - >/dev/null
  say "crossplane core init (CRDs from $CORE_CRDS)"
  # Init's client maps kinds once: the Lock CRD it just created is unknown to it on a first run, so run it again.
  local n=0
  until core_init; do
    (( ++n < 5 )) || die "core init failed: $(tail -5 "$C/log/crossplane-init.log")"
    sleep 2
  done


  packages
  local x=$C/pki/xfn
  start function-secure-bucket node dist/functions/secure-bucket/src/main.js --address "127.0.0.1:$FN_PORT" --tls-certs-dir "$x/function-dir"
  start function-auto-ready function-auto-ready --address "127.0.0.1:$AR_PORT" --tls-certs-dir "$x/function-dir"
  mkdir -p "$C/xfn-cache"
  start crossplane env KUBECONFIG="$C/crossplane.kubeconfig" crossplane-core core start --enable-webhooks=false \
    --package-runtime=External --xpkg-cache-dir "$C/xpkg-cache" --tls-client-certs-dir "$x/crossplane-dir" \
    --metrics-port "$XP_METRICS" --health-probe-port "$XP_HEALTH" --xfn-cache-dir "$C/xfn-cache" --poll-interval 10s
  start provider-standin node dist/tools/cluster/provider-standin.js --kubeconfig "$C/provider.kubeconfig" --account-file "$ACCOUNT"
  wait_for 120 "crossplane health" curl -sf "http://127.0.0.1:$XP_HEALTH/healthz"

  apply_stages
  for c in "${COMPONENTS[@]}"; do alive "$c" || die "$c exited (log: $C/log/$c.log)"; done
  echo "$((SECONDS - t0))" >"$C/start-seconds"
  say "up in $((SECONDS - t0))s"
  cat <<EOF
The control plane is up (loopback only). Use it with:
  export KUBECONFIG=$KUBECONFIG_OUT PATH=$BIN:\$PATH
  kubectl get xrd,compositions,functions
  kubectl get xsecurebuckets.storage.platform.example.org -n team-sales
  kubectl --as=system:serviceaccount:team-sales:flux-reconciler -n team-sales get xsecurebuckets.storage.platform.example.org
Logs: $C/log   AWS account (provider stand-in): $ACCOUNT   Stop: make cluster-down
EOF
}

down() {
  local i
  for (( i = ${#COMPONENTS[@]} - 1; i >= 0; i-- )); do
    local name=${COMPONENTS[i]}
    if alive "$name"; then
      say "stopping $name"
      kill "$(cat "$C/run/$name.pid")" 2>/dev/null || true
      for _ in $(seq 1 40); do alive "$name" || break; sleep 0.25; done
      alive "$name" && kill -9 "$(cat "$C/run/$name.pid")" 2>/dev/null || true
    fi
    rm -f "$C/run/$name.pid"
  done
  # The next up starts from an empty cluster and an empty account (certificates and packages are kept).
  [[ ${KEEP_STATE:-} == 1 ]] || rm -rf "$C/etcd" "$C/stages" "$C/xfn-cache" "$ACCOUNT"
  say "down"
}

status() {
  local c
  for c in "${COMPONENTS[@]}"; do printf '%-26s %s\n' "$c" "$(alive "$c" && echo "running (pid $(cat "$C/run/$c.pid"))" || echo stopped)"; done
}

case ${1:-} in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
