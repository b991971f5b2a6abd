package loadfile

// Field values every entry has: ids, timestamps, metadata.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/internal/ids"
)

// id returns the entry's explicit id, or a fresh one when it has none.
// Ids are unique across the whole file, whatever the kind of entry.
func (b *builder) id(path string, raw rawNode) int64 {
	if !raw.set() {
		return b.generatedID(path)
	}
	n := resolve(raw.n)
	id, ok := parseID(n)
	if !ok {
		b.errs.add(path+".id", "expected a positive decimal integer below 2^63, got %s", describe(n))
		return b.generatedID(path)
	}
	if prev, dup := b.ids[id]; dup {
		b.errs.add(path+".id", "id %d already used by %s", id, prev)
		return id
	}
	b.ids[id] = path
	return id
}

func (b *builder) generatedID(path string) int64 {
	for {
		id := ids.New()
		if _, used := b.ids[id]; !used {
			b.ids[id] = path
			return id
		}
	}
}

func parseID(n *yaml.Node) (int64, bool) {
	if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!int" && n.ShortTag() != "!!str") {
		return 0, false
	}
	s := n.Value
	if s == "" || s[0] < '1' || s[0] > '9' || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil
}

// times reads an entry's timestamps. A missing created_at defaults to the
// earliest of now and the entry's other timestamps (so an entry given only a
// past deleted_at stays coherent), a missing updated_at to created_at.
func (b *builder) times(path string, e entity) domain.Times {
	created, hasCreated := b.timestamp(path+".created_at", e.CreatedAt)
	updated, hasUpdated := b.timestamp(path+".updated_at", e.UpdatedAt)
	deleted, hasDeleted := b.timestamp(path+".deleted_at", e.DeletedAt)
	if !hasCreated {
		created = b.now
		if hasUpdated && updated.Before(created) {
			created = updated
		}
		if hasDeleted && deleted.Before(created) {
			created = deleted
		}
	}
	if !hasUpdated {
		updated = created
	}
	t := domain.Times{CreatedAt: created, UpdatedAt: updated}
	if updated.Before(created) {
		b.errs.add(path+".updated_at", "is before created_at")
	}
	if hasDeleted {
		if deleted.Before(created) {
			b.errs.add(path+".deleted_at", "is before created_at")
		}
		t.DeletedAt = &deleted
	}
	return t
}

func (b *builder) timestamp(path, s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		b.errs.add(path, "%q is not an RFC 3339 timestamp such as 2024-01-31T09:00:00Z", s)
		return time.Time{}, false
	}
	return t.UTC(), true
}

// metadata turns a free-form mapping into a compact JSON object with sorted
// keys; absent or null is {}. It stops at the first value past
// MaxMetadataBytes or MaxMetadataDepth, so aliases cannot make it expand.
func (b *builder) metadata(path string, raw rawNode) json.RawMessage {
	if !raw.set() {
		return json.RawMessage("{}")
	}
	n := resolve(raw.n)
	if n.Kind != yaml.MappingNode {
		b.errs.add(path, "expected a mapping (a JSON object), got %s", describe(n))
		return json.RawMessage("{}")
	}
	c := converter{left: MaxMetadataBytes}
	v, err := c.value(n, 1)
	if err != nil {
		b.errs.add(path, "%v", err)
		return json.RawMessage("{}")
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		b.errs.add(path, "%v", err)
		return json.RawMessage("{}")
	}
	out := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	if len(out) > MaxMetadataBytes { // escapes made it longer than counted
		b.errs.add(path, "%d bytes as JSON; the limit is %d", len(out), MaxMetadataBytes)
		return json.RawMessage("{}")
	}
	return json.RawMessage(out)
}

// converter turns YAML nodes into the values encoding/json writes, counting
// the bytes of JSON they make (escapes aside) against left.
type converter struct{ left int }

func (c *converter) spend(n *yaml.Node, bytes int) error {
	if c.left -= bytes; c.left < 0 {
		return fmt.Errorf("line %d: more than %d bytes as JSON", n.Line, MaxMetadataBytes)
	}
	return nil
}

// value converts one node. Numbers keep the spelling they were written with
// when it is valid JSON, so ids beyond 2^53 survive.
func (c *converter) value(n *yaml.Node, depth int) (any, error) {
	n = resolve(n)
	if (n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode) && depth > MaxMetadataDepth {
		return nil, fmt.Errorf("line %d: nested deeper than %d levels", n.Line, MaxMetadataDepth)
	}
	switch n.Kind {
	case yaml.MappingNode:
		if err := c.spend(n, 2); err != nil {
			return nil, err
		}
		m := make(map[string]any, min(len(n.Content)/2, MaxMetadataBytes/4))
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := resolve(n.Content[i])
			if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!merge" {
				return nil, fmt.Errorf("line %d: keys must be plain strings", k.Line)
			}
			if _, dup := m[k.Value]; dup {
				return nil, fmt.Errorf("line %d: key %q given twice", k.Line, shorten(k.Value))
			}
			if err := c.spend(k, len(k.Value)+3+min(i, 1)); err != nil { // ,"k":
				return nil, err
			}
			v, err := c.value(n.Content[i+1], depth+1)
			if err != nil {
				return nil, err
			}
			m[k.Value] = v
		}
		return m, nil
	case yaml.SequenceNode:
		if err := c.spend(n, 2); err != nil {
			return nil, err
		}
		s := make([]any, 0, min(len(n.Content), MaxMetadataBytes/2))
		for i, e := range n.Content {
			if err := c.spend(e, min(i, 1)); err != nil { // the comma
				return nil, err
			}
			v, err := c.value(e, depth+1)
			if err != nil {
				return nil, err
			}
			s = append(s, v)
		}
		return s, nil
	}
	if err := c.spend(n, len(n.Value)+2); err != nil {
		return nil, err
	}
	switch n.ShortTag() {
	case "!!null":
		return nil, nil
	case "!!bool", "!!int", "!!float":
		if n.ShortTag() != "!!bool" && json.Valid([]byte(n.Value)) {
			return json.Number(n.Value), nil
		}
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, fmt.Errorf("line %d: %v", n.Line, err)
		}
		if f, ok := v.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
			return nil, fmt.Errorf("line %d: %s has no JSON representation", n.Line, n.Value)
		}
		return v, nil
	default: // strings, and timestamps or binary kept as written
		return n.Value, nil
	}
}

func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}
