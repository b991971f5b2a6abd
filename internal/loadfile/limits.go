package loadfile

// Limits on a data file, checked before the work they bound, so a hostile
// file is refused in bounded memory (docs/load-format.md#limits). Each
// refusal names the field, or the line where no field can be named yet.

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

const (
	// MaxFileBytes is the largest file Parse reads.
	MaxFileBytes = 8 << 20
	// MaxValues bounds the scalars, lists and mappings (every key counts)
	// after aliases are expanded: about 180 bytes each once parsed.
	MaxValues = 750_000
	// MaxDepth bounds how deeply lists and mappings nest in the file.
	MaxDepth = 64
	// MaxMetadataBytes and MaxMetadataDepth bound each metadata object, as
	// compact JSON and counted from the object itself.
	MaxMetadataBytes = 8 << 10
	MaxMetadataDepth = 16
	// MaxString is the longest string value, in bytes, except for the
	// fields in longStrings.
	MaxString = 1 << 10
)

// longStrings are the fields allowed more than MaxString bytes.
var longStrings = map[string]int{
	"description": 4 << 10,
	"image_url":   4 << 10,
	"private_key": 16 << 10,
}

// ReadFile reads a data file, refusing one larger than MaxFileBytes without
// reading the rest of it.
func ReadFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileBytes {
		return nil, fmt.Errorf("%s: larger than the limit of %d bytes (%d MiB): split it into several loads", path, MaxFileBytes, MaxFileBytes>>20)
	}
	return data, nil
}

// checkInput refuses, before any parsing, a file too large or not UTF-8.
func checkInput(data []byte) error {
	if len(data) > MaxFileBytes {
		return fmt.Errorf("the file has %d bytes; the limit is %d (%d MiB): split it into several loads", len(data), MaxFileBytes, MaxFileBytes>>20)
	}
	if !utf8.Valid(data) {
		off := 0
		for off < len(data) {
			r, size := utf8.DecodeRune(data[off:])
			if r == utf8.RuneError && size == 1 {
				break
			}
			off += size
		}
		line := 1 + bytes.Count(data[:off], []byte("\n"))
		col := 1 + utf8.RuneCount(data[bytes.LastIndexByte(data[:off], '\n')+1:off])
		return fmt.Errorf("line %d, column %d: invalid UTF-8 (byte 0x%02x); the file must be UTF-8", line, col, data[off])
	}
	return nil
}

// checkYAMLValues refuses, before yaml.v3 builds its tree, a YAML file that
// may hold more than MaxValues values. Every value but the first follows a
// line break or one of ", : - [ { ?", and each such character starts at most
// two (a key without a value in a flow mapping, or a block mapping and its
// first key), so twice their count is an upper bound.
func checkYAMLValues(data []byte) error {
	n := 1
	for _, c := range data {
		switch c {
		case '\n', ',', ':', '-', '[', '{', '?':
			n++
		}
	}
	if 2*n > MaxValues {
		return fmt.Errorf("the file may hold up to %d values (twice its %d line breaks and \",:-[{?\"); the limit is %d: split it into several loads, or use JSON, which is counted exactly", 2*n, n, MaxValues)
	}
	return nil
}

// checkTree refuses a parsed tree that nests deeper than MaxDepth or whose
// aliases expand past MaxValues values, or an alias inside its own anchor.
// Each anchored node is measured once, so the walk is linear in the file.
func checkTree(root *yaml.Node) error {
	type size struct{ values, depth int }
	done := map[*yaml.Node]size{}
	open := map[*yaml.Node]bool{}
	var walk func(n *yaml.Node, depth int) (size, error)
	walk = func(n *yaml.Node, depth int) (size, error) {
		if n.Kind == yaml.AliasNode {
			if open[n.Alias] {
				return size{}, &limitError{line: n.Line, msg: fmt.Sprintf("alias *%s is inside its own anchor", shorten(n.Value))}
			}
			if s, ok := done[n.Alias]; ok {
				return s, nil
			}
			n = n.Alias
		}
		if depth > MaxDepth {
			return size{}, &limitError{line: n.Line, msg: fmt.Sprintf("lists and mappings nest deeper than %d levels", MaxDepth)}
		}
		if n.Anchor != "" {
			open[n] = true
			defer delete(open, n)
		}
		s := size{values: 1}
		for i, c := range n.Content {
			cs, err := walk(c, depth+1)
			if err != nil {
				return size{}, within(err, n, i)
			}
			s.values += cs.values
			s.depth = max(s.depth, cs.depth+1)
			// Aliases multiply: check the totals, not just each branch.
			if s.values > MaxValues {
				return size{}, within(&limitError{line: c.Line, msg: fmt.Sprintf("aliases expand the file past %d values", MaxValues)}, n, i)
			}
			if depth+s.depth > MaxDepth {
				return size{}, within(&limitError{line: c.Line, msg: fmt.Sprintf("aliases nest lists and mappings deeper than %d levels", MaxDepth)}, n, i)
			}
		}
		if n.Anchor != "" {
			done[n] = s
		}
		return s, nil
	}
	_, err := walk(root, 1)
	return err
}

// limitError is a limit reached while parsing or measuring the tree, with
// the path of the value that reached it, filled in on the way out.
type limitError struct {
	path string
	line int
	msg  string
}

func (e *limitError) Error() string {
	if e.path == "" {
		return fmt.Sprintf("line %d: %s", e.line, e.msg)
	}
	return fmt.Sprintf("%s: line %d: %s", e.path, e.line, e.msg)
}

// within adds to a limitError the key or index under which the i-th node of
// parent's content arose.
func within(err error, parent *yaml.Node, i int) error {
	e, ok := err.(*limitError)
	if !ok {
		return err
	}
	seg := fmt.Sprintf("[%d]", i)
	if parent.Kind == yaml.MappingNode {
		seg = shorten(parent.Content[i-i%2].Value)
	}
	switch {
	case e.path == "":
		e.path = seg
	case strings.HasPrefix(e.path, "["):
		e.path = seg + e.path
	default:
		e.path = seg + "." + e.path
	}
	return e
}

// stringLimit is the longest value allowed for the field at the end of path.
func stringLimit(field string) int {
	if l, ok := longStrings[field]; ok {
		return l
	}
	return MaxString
}

// fieldOf is the field a path ends in: "hosts" for "deployments[0].hosts[1]".
func fieldOf(path string) string {
	last := path[strings.LastIndexByte(path, '.')+1:]
	name, _, _ := strings.Cut(last, "[")
	return name
}

// shorten keeps a name from the file short enough to quote in an error.
func shorten(s string) string {
	const keep = 40
	if len(s) <= keep {
		return s
	}
	cut := keep
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s…(%d bytes)", s[:cut], len(s))
}
