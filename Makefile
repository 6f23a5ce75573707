# Every target installs what it needs: a fresh clone with ../shared beside it is enough.
SHELL := /bin/bash
NODE_BIN := node_modules/.bin
RENDER := node dist/functions/secure-bucket/cli/render.js
CLAIMS := $(wildcard compositions/examples/claims/*.yaml)
export SHARED_DIR ?= $(abspath ../shared)

.PHONY: all upstream package cluster-bins cluster-up cluster-down cluster-status e2e deps build build-if-stale typecheck lint render test synth xrds platform-iam golden bench clean check-shared serve-dev explain access-diff cost

all: test

# npm ci only when the lock file changed since the last install.
node_modules/.package-lock.json: package-lock.json package.json
	npm ci --no-audit --no-fund
	@touch $@

deps: node_modules/.package-lock.json

check-shared:
	@test -d "$(SHARED_DIR)/schemas" || { echo "error: $(SHARED_DIR)/schemas not found: clone the shared folder beside this repo (../shared) or set SHARED_DIR" >&2; exit 1; }

build: deps
	$(NODE_BIN)/tsc -p tsconfig.build.json && touch dist/.build-stamp

# build only when a source is newer than its output (npm run render calls this on every run).
build-if-stale:
	@if [ ! -f dist/.build-stamp ] || [ -n "$$(find functions/*/src functions/*/cli cdk8s bench tools compositions tsconfig.json tsconfig.build.json package-lock.json -newer dist/.build-stamp \( -name '*.ts' -o -name '*.json' \) -print -quit 2>/dev/null)" ]; then \
	  $(MAKE) -s build; fi

typecheck: deps
	$(NODE_BIN)/tsc -p tsconfig.json

## upstream: the pinned upstream binaries (upstream/versions.env) in .upstream/bin; rebuilt only when a pin changes.
UPSTREAM_BINS := crossplane crossplane-core function-auto-ready
upstream:
	@for b in $(UPSTREAM_BINS); do upstream/build.sh $$b || exit 1; done

## cluster-bins: etcd, kube-apiserver, kube-controller-manager and kubectl for the local control plane (same pin file).
CLUSTER_BINS := etcd kube-apiserver kube-controller-manager kubectl
cluster-bins: upstream
	@for b in $(CLUSTER_BINS); do upstream/build.sh $$b || exit 1; done

## cluster-up: a real control plane on loopback (etcd, apiserver, controller-manager, Crossplane, functions, provider stand-in) with clusters/staging applied; writes .upstream/kubeconfig.
cluster-up: build cluster-bins check-shared
	upstream/cluster.sh up

## cluster-down: stops it and forgets its state (KEEP_STATE=1 keeps etcd's data and the account).
cluster-down:
	upstream/cluster.sh down

cluster-status:
	@upstream/cluster.sh status

## e2e: cluster-up, the scenarios of tests/e2e against it, cluster-down (also on failure); prints the timings.
e2e: build cluster-bins check-shared
	upstream/e2e.sh

## package: the Configuration and Function packages (dist/packages/*.xpkg), built and extracted with the pinned CLI.
package: upstream
	upstream/package.sh

## lint: ESLint (typescript-eslint recommended) and Prettier's check of the TypeScript/JavaScript sources.
lint: deps
	$(NODE_BIN)/eslint . && $(NODE_BIN)/prettier --check '**/*.{ts,js}'

## render: every example claim through the real function over gRPC, converged, with a summary.
render: build
	$(RENDER) --converge --summary $(CLAIMS)

## test: typecheck, lint, build, then every test; ends with 'N passed, N failed'. One file: npm test -- <path>.
test: typecheck lint build check-shared upstream
	@NODE_OPTIONS="--experimental-vm-modules --disable-warning=ExperimentalWarning" $(NODE_BIN)/jest --json --outputFile=.test-results.json $(JEST_ARGS); status=$$?; \
	node -e 'const r=require("./.test-results.json"); console.log(`$${r.numPassedTests} passed, $${r.numFailedTests} failed`)' || true; \
	exit $$status

## explain: the access matrix of every example claim, from the IAM policy simulator.
explain: build
	$(RENDER) --explain-access $(CLAIMS)

## access-diff: who gains and loses access to a bucket in what Flux applies, BASE vs the working tree (Markdown);
## FAIL_ON_WIDENING=1 exits 3 on a gain, 1 when something does not build. GATE=<dir>: the gate built in
## another checkout (CI builds it from the base revision, so a pull request cannot edit its own judge).
GATE ?= .
access-diff: $(if $(filter .,$(GATE)),build)
	@test -n "$(BASE)" || { echo "usage: make access-diff BASE=<git ref> [FAIL_ON_WIDENING=1] [GATE=<dir>]" >&2; exit 2; }
	@node $(GATE)/dist/tools/access-diff.js "$(BASE)" $(if $(FAIL_ON_WIDENING),--fail-on-widening)

## cost: the monthly cost estimate of every example claim (GB=N: data written a month, default 100).
cost: build
	$(RENDER) --cost $(if $(GB),--gb-per-month $(GB)) $(CLAIMS)

## platform-iam: regenerate each cluster's permissions boundaries (clusters/<cluster>/platform/iam-boundaries.yaml).
platform-iam: build
	node dist/tools/platform-iam.js

## golden: re-record what every example claim renders (tests/golden/); the golden test compares byte for byte.
golden: build
	@for f in $(CLAIMS); do node dist/functions/secure-bucket/cli/render.js --converge $$f > tests/golden/$$(basename $$f); done

## synth: regenerate the consumers' Kubernetes objects (generated/ beside each claim).
synth: build
	node dist/cdk8s/main.js

## xrds: copy compositions/schema/secure-bucket.yaml into both XRDs (v1 claim API, v2 namespaced API), and generate
## the spec types and field table the function reads (core/claim-api.generated.ts), the README field table,
## and the kind lists of the activation policy and tenant role (from core/kinds.ts).
xrds: build
	node dist/compositions/generate-xrds.js
	node dist/compositions/generate-claim-api.js
	node dist/compositions/generate-kind-lists.js

## bench: throughput, latency, memory and cold start of the function server; writes bench/results.json.
bench: build
	node dist/bench/run.js

clean:
	rm -rf dist .test-results.json

## serve-dev: our function in plaintext on 0.0.0.0:9443 for upstream `crossplane render` (Development runtime).
serve-dev: build
	node dist/functions/secure-bucket/src/main.js --insecure --address 0.0.0.0:9443 --debug
