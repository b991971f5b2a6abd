//go:build tools

// This file pins the contract tools in go.mod, so every machine with nothing
// installed but Go runs the same versions: the code generator (`go generate
// ./...`) and oasdiff, whose library the contract gates use and whose CLI is
// at hand as `go run github.com/oasdiff/oasdiff changelog BASE REVISION`.
package memberships

import (
	_ "github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen"
	_ "github.com/oasdiff/oasdiff"
)
