package fragment

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/wachtbench/memberships/internal/cache"
	"github.com/wachtbench/memberships/internal/domain"
)

func TestDecodeAggregates(t *testing.T) {
	segs, err := decodeSegments([]byte(`[{"id":9,"deployment_id":-1,"name":"S","type":"user","created_at":5,"updated_at":6}]`))
	if err != nil || len(segs) != 1 || segs[0].DeploymentID != -1 || segs[0].Type != domain.SegmentUser {
		t.Errorf("segments: %+v %v", segs, err)
	}
	for _, empty := range []string{"", "[]", "null", " [ ] "} {
		if s, err := decodeSegments([]byte(empty)); err != nil || s == nil || len(s) != 0 {
			t.Errorf("segments %q: %v %v", empty, s, err)
		}
	}
	for _, bad := range []string{"[", `[{"id":"x"}]`, `[{"other":1}]`, `[1]`, `[{"id":1}`, `[{"id":1}] x`, `{"id":1}`} {
		if _, err := decodeSegments([]byte(bad)); err == nil {
			t.Errorf("segments %q: no error", bad)
		}
	}
}

// FuzzDecodeStrings: the reader agrees with encoding/json on arrays of strings.
func FuzzDecodeStrings(f *testing.F) {
	for _, s := range []string{`[]`, `["a","b"]`, `["\u00e9\n\"",""]`, `null`, `[1]`, `["a",]`, `["\ud83d\ude00"]`, `["a"] `} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := Strings([]byte(s))
		var want []string
		jerr := json.Unmarshal([]byte(s), &want)
		if want == nil {
			want = []string{}
		}
		if s == "" {
			return // Strings treats an absent column as []
		}
		if (err == nil) != (jerr == nil) || (err == nil && !reflect.DeepEqual(got, want)) {
			t.Fatalf("%q: got %q, %v; encoding/json %q, %v", s, got, err, want, jerr)
		}
	})
}

// TestRecentDecodesWhatChanged: a row's text is compared with the previous
// row's in its scanned buffer, which the next row overwrites; a different
// text, or an error, is never answered from it.
func TestRecentDecodesWhatChanged(t *testing.T) {
	kept := cache.NewTexts[[]string](10)
	var p recent[[]string]
	decodes := 0
	decode := func(b []byte) ([]string, error) { decodes++; return Strings(b) }
	buf := make([]byte, 0, 16) // one buffer, as a driver reuses it
	for _, c := range []struct {
		text    string
		want    []string
		decodes int
	}{
		{`["a"]`, []string{"a"}, 1},
		{`["a"]`, []string{"a"}, 1}, // the previous row's
		{`["b"]`, []string{"b"}, 2},
		{`["a"]`, []string{"a"}, 2}, // the shared cache's
		{`[`, nil, 3},
		{`[`, nil, 4}, // an error is not remembered
	} {
		buf = append(buf[:0], c.text...)
		got, err := p.decoded(kept, buf, decode)
		if c.want == nil {
			if err == nil {
				t.Errorf("%s: no error", c.text)
			}
		} else if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %v %v, want %v", c.text, got, err, c.want)
		}
		if decodes != c.decodes {
			t.Errorf("%s: %d decodes, want %d", c.text, decodes, c.decodes)
		}
	}
	p.reset()
	buf = append(buf[:0], `["b"]`...)
	if got, _ := p.decoded(kept, buf, decode); !reflect.DeepEqual(got, []string{"b"}) || p.v == nil {
		t.Errorf("after reset: %v", got)
	}
}
