//go:build tools

// Package tools pins the Prometheus commands built by e2e/tools/build.py.
package tools

import (
	_ "github.com/prometheus/prometheus/cmd/prometheus"
	_ "github.com/prometheus/prometheus/cmd/promtool"
)
