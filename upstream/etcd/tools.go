//go:build tools

// Keeps etcd's main package in the module graph so go mod tidy keeps its dependencies.
package tools

import _ "go.etcd.io/etcd/server/v3"
