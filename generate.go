// Package memberships is the contract of the workspace-memberships API: the
// hand-written openapi.yaml, embedded, and the go:generate lines that turn it
// into the server interface (gen/) and the client (client/).
package memberships

import _ "embed"

// OpenAPI is openapi.yaml as written, the contract the server enforces.
//
//go:embed openapi.yaml
var OpenAPI []byte

//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config gen/config.yaml openapi.yaml
//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config client/config.yaml openapi.yaml
