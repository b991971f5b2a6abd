package fragment

import (
	"encoding/json"
	"errors"
	"strconv"
	"unicode/utf8"

	"github.com/wachtbench/memberships/internal/domain"
)

// Both stores return segments and string lists as JSON they build
// (json_group_array / json_agg of objects with keys in a known order, times
// in unix microseconds). This is a small reader for exactly those shapes,
// without reflection, fast enough for the per-request organization
// permissions; strings with escapes or non-ASCII bytes go through
// encoding/json.

// reader walks one JSON value; the first error sticks.
type reader struct {
	b   []byte
	i   int
	err error
}

var errShape = errors.New("unexpected JSON")

func (r *reader) fail() {
	if r.err == nil {
		r.err = errShape
	}
}

func (r *reader) ws() {
	for r.i < len(r.b) && (r.b[r.i] == ' ' || r.b[r.i] == '\n' || r.b[r.i] == '\t' || r.b[r.i] == '\r') {
		r.i++
	}
}

// peek skips white space and reports the next byte (0 at the end).
func (r *reader) peek() byte {
	r.ws()
	if r.err != nil || r.i >= len(r.b) {
		return 0
	}
	return r.b[r.i]
}

func (r *reader) eat(c byte) bool {
	if r.peek() == c {
		r.i++
		return true
	}
	return false
}

// each calls item for every element of an array, or does nothing for null.
func (r *reader) each(open, close byte, item func()) {
	if r.peek() == 'n' && r.literal("null") {
		return
	}
	if !r.eat(open) {
		r.fail()
		return
	}
	if r.eat(close) {
		return
	}
	for r.err == nil {
		item()
		if r.eat(close) {
			return
		}
		if !r.eat(',') {
			r.fail()
		}
	}
}

func (r *reader) literal(s string) bool {
	if len(r.b)-r.i >= len(s) && string(r.b[r.i:r.i+len(s)]) == s {
		r.i += len(s)
		return true
	}
	return false
}

// key reads an object key and its colon; the bytes are only valid until the
// next read, which is all a switch on string(key) needs.
func (r *reader) key() []byte {
	k := r.raw()
	if !r.eat(':') {
		r.fail()
	}
	return k
}

// raw reads a string without escapes and returns its bytes.
func (r *reader) raw() []byte {
	if !r.eat('"') {
		r.fail()
		return nil
	}
	start := r.i
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case '"':
			r.i++
			return r.b[start : r.i-1]
		case '\\':
			r.fail()
			return nil
		}
		r.i++
	}
	r.fail()
	return nil
}

// str reads a string value, unescaping when it must.
func (r *reader) str() string {
	if r.peek() != '"' {
		r.fail()
		return ""
	}
	start := r.i
	for j := start + 1; j < len(r.b); j++ {
		switch c := r.b[j]; {
		case c == '"':
			r.i = j + 1
			return string(r.b[start+1 : j])
		case c == '\\' || c < 0x20 || c >= utf8.RuneSelf:
			// Escapes, control characters (invalid in JSON) and anything
			// beyond ASCII (which may be invalid UTF-8) as encoding/json does.
			return r.escaped(start)
		}
	}
	r.fail()
	return ""
}

// escaped reads the string at start with encoding/json, which knows escapes.
func (r *reader) escaped(start int) string {
	j := start + 1
	for ; j < len(r.b) && r.b[j] != '"'; j++ {
		if r.b[j] == '\\' {
			j++
		}
	}
	var s string
	if j >= len(r.b) || json.Unmarshal(r.b[start:j+1], &s) != nil {
		r.fail()
		return ""
	}
	r.i = j + 1
	return s
}

func (r *reader) int() int64 {
	r.ws()
	start := r.i
	for r.i < len(r.b) && (r.b[r.i] == '-' || r.b[r.i] >= '0' && r.b[r.i] <= '9') {
		r.i++
	}
	n, err := strconv.ParseInt(string(r.b[start:r.i]), 10, 64)
	if err != nil {
		r.fail()
	}
	return n
}

// done checks the whole input was one value.
func (r *reader) done() error {
	if r.ws(); r.i != len(r.b) {
		r.fail()
	}
	return r.err
}

// Strings decodes a JSON array of strings (or NULL), never returning nil.
func Strings(b []byte) ([]string, error) {
	out := []string{}
	if len(b) == 0 {
		return out, nil
	}
	r := &reader{b: b}
	r.strings(&out)
	return out, r.done()
}

func (r *reader) strings(out *[]string) {
	r.each('[', ']', func() { *out = append(*out, r.str()) })
}

// decodeSegments decodes a JSON array of segments; NULL (no rows) is empty.
func decodeSegments(b []byte) ([]domain.Segment, error) {
	out := []domain.Segment{}
	if len(b) == 0 {
		return out, nil
	}
	r := &reader{b: b}
	r.each('[', ']', func() {
		var s domain.Segment
		r.each('{', '}', func() {
			switch string(r.key()) {
			case "id":
				s.ID = r.int()
			case "deployment_id":
				s.DeploymentID = r.int()
			case "name":
				s.Name = r.str()
			case "type":
				s.Type = domain.SegmentType(r.str())
			case "created_at":
				s.CreatedAt = fromMicros(r.int())
			case "updated_at":
				s.UpdatedAt = fromMicros(r.int())
			default:
				r.fail()
			}
		})
		out = append(out, s)
	})
	return out, r.done()
}
