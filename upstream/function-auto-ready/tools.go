//go:build tools

// Keeps its main package in the module graph so go mod tidy keeps its dependencies.
package tools

import _ "github.com/crossplane/function-auto-ready"
