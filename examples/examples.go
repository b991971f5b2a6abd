// Package examples embeds the example data files.
package examples

import _ "embed"

// Demo is demo.yaml: the data set `memberships serve` loads into an empty
// default memberships.db (or any empty database with --demo), and the complete example of the load format.
//
//go:embed demo.yaml
var Demo []byte
