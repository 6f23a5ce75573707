# Every target installs what it needs: a fresh clone with ../shared beside it is enough.
SHELL := /bin/bash
NODE_BIN := node_modules/.bin
RENDER := node dist/functions/secure-bucket/cli/render.js
CLAIMS := $(wildcard compositions/examples/claims/*.yaml)
export SHARED_DIR ?= $(abspath ../shared)

.PHONY: all help upstream package cluster-bins cluster-up cluster-down cluster-status e2e deps build build-if-stale typecheck lint render test synth xrds platform-iam golden bench clean check-shared serve-dev explain access-diff cost tenant

## all: the default target: make test.
all: test

## help: every target with one line, from the `## target:` comments of this Makefile.
help:
	@awk '/^## [a-z-]+:/ { sub(/^## /, ""); split($$0, p, ":"); t = p[1]; if (!(t in seen)) { seen[t] = 1; sub(/^[a-z-]+: */, ""); printf "  %-16s %s\n", t, $$0 } }' $(MAKEFILE_LIST)

# npm ci only when the lock file changed since the last install.
## deps: npm ci, only when package-lock.json changed since the last install.
node_modules/.package-lock.json: package-lock.json package.json
	npm ci --no-audit --no-fund
	@touch $@

deps: node_modules/.package-lock.json

## check-shared: fails with a hint when ../shared (or $SHARED_DIR) is missing.
check-shared:
	@test -d "$(SHARED_DIR)/schemas" || { echo "error: $(SHARED_DIR)/schemas not found: clone the shared folder beside this repo (../shared) or set SHARED_DIR" >&2; exit 1; }

# Stamps: build and typecheck run tsc only when a source, a tsconfig or the lock file is newer.
TS_SOURCES := $(shell find functions/*/src functions/*/cli cdk8s bench tools compositions \( -name '*.ts' -o -name '*.json' \) -not -path '*/node_modules/*' 2>/dev/null) tsconfig.json tsconfig.build.json
TEST_SOURCES := $(shell find tests -name '*.ts' 2>/dev/null)
dist/.build-stamp: $(TS_SOURCES) node_modules/.package-lock.json
	$(NODE_BIN)/tsc -p tsconfig.build.json && touch $@
dist/.typecheck-stamp: $(TS_SOURCES) $(TEST_SOURCES) node_modules/.package-lock.json
	$(NODE_BIN)/tsc -p tsconfig.json && mkdir -p dist && touch $@

## build: compile to dist/ (only when a source changed).
build: deps dist/.build-stamp

## build-if-stale: build quietly when a source is newer than dist/ (npm run render calls this on every run).
build-if-stale:
	@$(MAKE) -s dist/.build-stamp >/dev/null

## typecheck: tsc over sources and tests (only when one changed).
typecheck: deps dist/.typecheck-stamp

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

## cluster-status: which processes of the local control plane run, and where their logs are.
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

## test: typecheck, lint, build, every test (npm test -- tests/x: one file); ends with 'N passed, N failed'.
# A test file that failed to load or crashed counts as failed, and the line names it.
test: typecheck lint build check-shared upstream
	@rm -f .test-results.json; NODE_OPTIONS="--experimental-vm-modules --disable-warning=ExperimentalWarning" $(NODE_BIN)/jest --json --outputFile=.test-results.json $(JEST_ARGS); status=$$?; \
	node dist/tools/test-summary.js .test-results.json $$status || status=1; \
	exit $$status

## explain: the access matrix of every example claim, from the IAM policy simulator.
explain: build
	$(RENDER) --explain-access $(CLAIMS)

## access-diff: who gains and loses access to a bucket in what Flux applies, BASE vs the working tree (Markdown).
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

## tenant: onboard a tenant on a cluster: NAME=<namespace> CLUSTER=<cluster> [SEGMENT=<s>] [API=v2|claim] [MESH=1].
tenant: build
	@node dist/tools/tenant.js --name "$(NAME)" --cluster "$(CLUSTER)" $(if $(SEGMENT),--segment "$(SEGMENT)") $(if $(API),--api "$(API)") $(if $(MESH),--mesh "$(MESH)")

## clean: remove dist/ and the test results.
clean:
	rm -rf dist .test-results.json

## serve-dev: our function in plaintext on 0.0.0.0:9443 for upstream `crossplane render` (Development runtime).
serve-dev: build
	node dist/functions/secure-bucket/src/main.js --insecure --address 0.0.0.0:9443 --debug
