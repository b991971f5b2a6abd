// Package loadfile reads the declarative data file of `memberships load` (YAML
// or JSON, documented in docs/load-format.md) into a domain.Dataset: every id
// assigned, every reference resolved, everything validated. Parsing writes
// nothing and makes no keys: inserting the data set, and generating the key
// of a deployment given none, is the store's job (internal/store/load).
//
// Files: parse.go parses, check.go checks the document's shape, format.go
// is the format as decoded; build.go flattens it, with deployment.go,
// users.go, organizations.go and values.go by what they build. It imports
// domain, auth (to check a given key) and ids; never a store.
package loadfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/wachtbench/memberships/internal/domain"
)

// Parse reads a data file. name is only used to tell JSON (".json") from
// YAML; content starting with '{' is taken as JSON too. Missing timestamps
// become now. The error lists every problem found (up to 20), each prefixed
// with the path of the entry and field at fault, such as
// "deployments[0].users[1].email: ...". The limits in limits.go bound the
// memory any input costs.
func Parse(name string, data []byte, now time.Time) (*domain.Dataset, error) {
	if err := checkInput(data); err != nil {
		return nil, err
	}
	isJSON := strings.EqualFold(filepath.Ext(name), ".json") ||
		bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n\ufeff"), []byte("{"))
	var root *yaml.Node
	var err error
	if isJSON {
		root, err = jsonNode(data)
	} else if err = checkYAMLValues(data); err == nil {
		root, err = yamlNode(data)
	}
	if err != nil {
		return nil, err
	}
	if err := checkTree(root); err != nil {
		return nil, err
	}

	var errs errList
	checkShape(&errs, "", root, reflect.TypeFor[file]())
	if err := errs.err(); err != nil {
		return nil, err
	}
	var f file
	if err := root.Decode(&f); err != nil { // checkShape has already rejected unknown fields
		return nil, fmt.Errorf("decoding %s: %w", name, err) // not expected after checkShape
	}
	return build(&f, now)
}

func yamlNode(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			return nil, errors.New("empty file: expected a mapping with a deployments list")
		}
		return nil, fmt.Errorf("invalid YAML: %w", err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == nil:
		return nil, errors.New("invalid YAML: expected a single document, found another after \"---\"")
	case err != io.EOF:
		return nil, fmt.Errorf("invalid YAML: %w", err)
	}
	return doc.Content[0], nil
}
