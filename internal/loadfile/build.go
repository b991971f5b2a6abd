package loadfile

// The builder: a decoded file flattened into a Dataset, every error collected.

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/wachtbench/memberships/internal/domain"
)

// builder flattens a decoded file into a Dataset, collecting every error.
type builder struct {
	now   time.Time
	ds    domain.Dataset
	errs  errList
	ids   map[int64]string // every id, explicit or generated → path of its entry
	hosts map[string]string
}

// deploymentScope is what references inside one deployment resolve against.
type deploymentScope struct {
	id            int64
	users         *index
	segments      *index
	organizations *index // names only, for duplicates
}

func build(f *file, now time.Time) (*domain.Dataset, error) {
	b := &builder{now: now.UTC(), ids: map[int64]string{}, hosts: map[string]string{}}
	if len(f.Deployments) == 0 {
		b.errs.add("deployments", "at least one deployment is required")
	}
	for i := range f.Deployments {
		b.deployment(fmt.Sprintf("deployments[%d]", i), &f.Deployments[i])
	}
	if err := b.errs.err(); err != nil {
		return nil, err
	}
	return &b.ds, nil
}

// refs resolves a list of references (names or ids) against idx.
func (b *builder) refs(path string, refs []string, idx *index, kind string) []int64 {
	out := make([]int64, 0, len(refs))
	seen := map[int64]bool{}
	for i, ref := range refs {
		ref = strings.TrimSpace(ref)
		p := fmt.Sprintf("%s[%d]", path, i)
		id, ok := idx.find(ref)
		switch {
		case !ok:
			b.errs.add(p, "unknown %s %q", kind, ref)
		case seen[id]:
			b.errs.add(p, "%s %q given twice", kind, ref)
		default:
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

func (b *builder) addName(path string, idx *index, id int64, name, kind string) {
	if name == "" {
		return // reported as required
	}
	if prev := idx.add(id, name, path); prev != "" {
		b.errs.add(path, "%s %q already defined at %s", kind, name, prev)
	}
}

func (b *builder) required(path, v string) string {
	v = strings.TrimSpace(v)
	if v == "" {
		b.errs.add(path, "required")
	}
	return v
}

// index finds entries by id or by name; a reference that is a known id
// wins over a name spelled like a number.
type index struct {
	ids   map[int64]bool
	names map[string]int64
	where map[string]string
}

func newIndex() *index {
	return &index{ids: map[int64]bool{}, names: map[string]int64{}, where: map[string]string{}}
}

// add records an entry and returns the path of an earlier one of that name.
func (x *index) add(id int64, name, path string) string {
	x.ids[id] = true
	if prev, dup := x.where[name]; dup {
		return prev
	}
	x.names[name], x.where[name] = id, path
	return ""
}

func (x *index) find(ref string) (int64, bool) {
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil && x.ids[id] {
		return id, true
	}
	id, ok := x.names[ref]
	return id, ok
}
