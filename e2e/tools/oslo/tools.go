//go:build tools

// Package tools pins the commands that e2e/tools/build.py builds from github.com/OpenSLO/oslo.
package tools

import (
	_ "github.com/OpenSLO/oslo/cmd/oslo"
)
