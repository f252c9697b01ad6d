//go:build tools

// Package tools pins the commands that e2e/tools/build.py builds from sigs.k8s.io/kustomize/kustomize/v5.
package tools

import (
	_ "sigs.k8s.io/kustomize/kustomize/v5"
)
