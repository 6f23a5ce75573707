// Wrapper module: builds the pinned function-auto-ready (upstream/build.sh function-auto-ready).
module local/upstream/function-auto-ready

go 1.26.0

require github.com/crossplane/function-auto-ready v0.6.7

replace github.com/crossplane/function-auto-ready => github.com/crossplane-contrib/function-auto-ready v0.6.7
