//go:build tools

// Package tools pins the commands that e2e/tools/build.py builds from helm.sh/helm/v3.
package tools

import (
	_ "helm.sh/helm/v3/cmd/helm"
)
