package loadfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

// checkShape compares the document with the Go types of the format before
// decoding, so unknown fields and wrongly typed values are reported with the
// path of the entry (yaml.v3 itself only gives line numbers) and all at once.
func checkShape(errs *errList, path string, n *yaml.Node, t reflect.Type) {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // the zero value; the builder checks required fields
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		return // rawNode: interpreted by the builder
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			errs.addAt(path, n, "expected a mapping, got %s", describe(n))
			return
		}
		checkMapping(errs, path, n, yamlFields(t), map[string]bool{})
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			errs.addAt(path, n, "expected a list, got %s", describe(n))
			return
		}
		for i, e := range n.Content {
			checkShape(errs, fmt.Sprintf("%s[%d]", path, i), e, t.Elem())
		}
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
			errs.addAt(path, n, "expected true or false, got %s", describe(n))
		}
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			errs.addAt(path, n, "expected a string, got %s", describe(n))
		} else if limit := stringLimit(fieldOf(path)); len(n.Value) > limit {
			errs.addAt(path, n, "%d bytes long; the limit is %d", len(n.Value), limit)
		}
	}
}

func checkMapping(errs *errList, path string, n *yaml.Node, fields map[string]reflect.Type, seen map[string]bool) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.ShortTag() == "!!merge" { // "<<: *defaults" shares settings between entries
			for v.Kind == yaml.AliasNode {
				v = v.Alias
			}
			merged := []*yaml.Node{v}
			if v.Kind == yaml.SequenceNode {
				merged = v.Content
			}
			for _, m := range merged {
				for m.Kind == yaml.AliasNode {
					m = m.Alias
				}
				if m.Kind != yaml.MappingNode {
					errs.addAt(path, m, "can only merge mappings")
					continue
				}
				checkMapping(errs, path, m, fields, map[string]bool{})
			}
			continue
		}
		field := join(path, shorten(k.Value))
		ft, ok := fields[k.Value]
		switch {
		case !ok:
			errs.addAt(field, k, "unknown field")
		case seen[k.Value]:
			errs.addAt(field, k, "given twice")
		default:
			seen[k.Value] = true
			checkShape(errs, field, v, ft)
		}
	}
}

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

// yamlFields maps the yaml names of a struct's fields, inlined ones included,
// to their types.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if opts == "inline" {
			for k, v := range yamlFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if name != "" && name != "-" {
			out[name] = f.Type
		}
	}
	return out
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	default:
		return fmt.Sprintf("%q", shorten(n.Value))
	}
}

// jsonNode turns a JSON document into the yaml.Node tree the YAML parser
// would build. JSON is nearly YAML, but yaml.v3 rejects some valid JSON (the
// "\/" escape, tab indentation, surrogate pairs), so JSON gets its own parser;
// nodes keep their line numbers for messages.
func jsonNode(data []byte) (*yaml.Node, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	lines, counted := 1, 0 // line breaks before data[counted]
	line := func() int {
		off := int(dec.InputOffset())
		// InputOffset is the end of the previous token; skip to the next one.
		for off < len(data) && strings.IndexByte(" \t\r\n,:", data[off]) >= 0 {
			off++
		}
		lines += bytes.Count(data[counted:off], []byte("\n"))
		counted = off
		return lines
	}
	values := 0
	var value func(depth int) (*yaml.Node, error)
	value = func(depth int) (*yaml.Node, error) {
		l := line()
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		if values++; values > MaxValues {
			return nil, &limitError{line: l, msg: fmt.Sprintf("the file holds more than %d values", MaxValues)}
		}
		n := &yaml.Node{Kind: yaml.ScalarNode, Line: l}
		switch v := tok.(type) {
		case json.Delim:
			if depth > MaxDepth {
				return nil, &limitError{line: l, msg: fmt.Sprintf("lists and mappings nest deeper than %d levels", MaxDepth)}
			}
			if v == '{' {
				n.Kind, n.Tag = yaml.MappingNode, "!!map"
			} else {
				n.Kind, n.Tag = yaml.SequenceNode, "!!seq"
			}
			for dec.More() {
				if n.Kind == yaml.MappingNode {
					k, err := value(depth + 1)
					if err != nil {
						return nil, err
					}
					n.Content = append(n.Content, k)
				}
				e, err := value(depth + 1)
				if err != nil {
					return nil, within(err, n, len(n.Content))
				}
				n.Content = append(n.Content, e)
			}
			if _, err := dec.Token(); err != nil { // the closing delimiter
				return nil, err
			}
		case string:
			n.Tag, n.Value, n.Style = "!!str", v, yaml.DoubleQuotedStyle
		case json.Number:
			n.Tag, n.Value = "!!int", v.String()
			if strings.ContainsAny(n.Value, ".eE") {
				n.Tag = "!!float"
			}
		case bool:
			n.Tag, n.Value = "!!bool", fmt.Sprint(v)
		case nil:
			n.Tag, n.Value = "!!null", "null"
		}
		return n, nil
	}
	root, err := value(1)
	if err == nil {
		if _, err = dec.Token(); err == io.EOF {
			return root, nil
		} else if err == nil {
			err = errors.New("unexpected data after the top-level value")
		}
	}
	var syn *json.SyntaxError
	var limit *limitError
	if errors.As(err, &limit) {
		return nil, limit
	}
	if errors.As(err, &syn) {
		return nil, fmt.Errorf("invalid JSON at line %d: %v", 1+bytes.Count(data[:syn.Offset], []byte("\n")), err)
	}
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, errors.New("invalid JSON: unexpected end of file")
	}
	return nil, fmt.Errorf("invalid JSON: %v", err)
}

// errList collects errors, each naming the path of the entry at fault. It
// keeps the first maxErrors and counts the rest, so a file of a million
// mistakes costs no more than one of twenty.
type errList struct {
	errs    []error
	dropped int
}

const maxErrors = 20

func (l *errList) add(path, format string, args ...any) {
	l.push(func() error { return fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...)) })
}

// addAt is add with the line the node starts at, for errors found in the
// document's shape where the path alone may be hard to spot.
func (l *errList) addAt(path string, n *yaml.Node, format string, args ...any) {
	l.push(func() error { return fmt.Errorf("%s: %s (line %d)", path, fmt.Sprintf(format, args...), n.Line) })
}

func (l *errList) push(err func() error) {
	if len(l.errs) == maxErrors {
		l.dropped++
		return
	}
	l.errs = append(l.errs, err())
}

func (l *errList) err() error {
	if l.dropped == 0 {
		return errors.Join(l.errs...)
	}
	return errors.Join(append(l.errs, fmt.Errorf("… and %d more errors", l.dropped))...)
}

func join(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}
