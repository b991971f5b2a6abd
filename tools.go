//go:build tools

// This file pins the code generator in go.mod, so `go generate ./...` runs the
// same version on every machine with nothing installed but Go.
package memberships

import _ "github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen"
