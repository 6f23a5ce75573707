//go:build tools

// Keeps core's main package in the module graph so go mod tidy keeps its dependencies.
package tools

import _ "github.com/crossplane/crossplane/v2/cmd/crossplane"
