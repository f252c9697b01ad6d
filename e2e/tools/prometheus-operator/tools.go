//go:build tools

// Package tools pins the prometheus-operator commands built by e2e/tools/build.py.
package tools

import (
	_ "github.com/prometheus-operator/prometheus-operator/cmd/admission-webhook"
	_ "github.com/prometheus-operator/prometheus-operator/cmd/operator"
)
