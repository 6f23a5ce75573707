// Wrapper module: builds the pinned Crossplane core binary (upstream/build.sh crossplane-core).
module local/upstream/crossplane-core

go 1.26.0

require github.com/crossplane/crossplane/v2 v2.4.0
