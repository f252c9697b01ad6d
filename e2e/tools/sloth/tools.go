//go:build tools

// Package tools pins the commands that e2e/tools/build.py builds from github.com/slok/sloth.
package tools

import (
	_ "github.com/slok/sloth/cmd/sloth"
)
