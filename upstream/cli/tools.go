//go:build tools

// Keeps the CLI main package in the module graph so go mod tidy keeps its dependencies.
package tools

import _ "github.com/crossplane/cli/v2/cmd/crossplane"
