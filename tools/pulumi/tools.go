//go:build tools

// Package tools pins the Pulumi CLI so it can be built from the Go module
// proxy on machines where the release binary cannot be downloaded.
package tools

import (
	_ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
)
