package fragment

import (
	"encoding/json"
	"reflect"
	"testing"

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
