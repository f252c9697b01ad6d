//go:build tools

// Package tools pins the commands that e2e/tools/build.py builds from github.com/argoproj/argo-cd/v3.
package tools

import (
	_ "github.com/argoproj/argo-cd/v3/cmd"
)
