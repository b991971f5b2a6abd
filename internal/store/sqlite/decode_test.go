package sqlite

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/wachtbench/memberships/internal/domain"
)

func TestDecodeAggregates(t *testing.T) {
	roles, err := decodeRoles([]byte(`[{"id":1,"name":"A \"q\" \u00fc\\n","permissions":["workspace:admin","x"],"created_at":1700000000000001,"updated_at":2},
		{"id":2,"name":"","permissions":[],"created_at":0,"updated_at":0}, {"id":3, "name":"ü", "permissions":null, "created_at":1, "updated_at":1}]`))
	want := []domain.Role{
		{ID: 1, Name: "A \"q\" ü\\n", Permissions: []string{"workspace:admin", "x"}, CreatedAt: time.UnixMicro(1700000000000001).UTC(), UpdatedAt: time.UnixMicro(2).UTC()},
		{ID: 2, Name: "", Permissions: []string{}, CreatedAt: time.UnixMicro(0).UTC(), UpdatedAt: time.UnixMicro(0).UTC()},
		{ID: 3, Name: "ü", Permissions: []string{}, CreatedAt: time.UnixMicro(1).UTC(), UpdatedAt: time.UnixMicro(1).UTC()},
	}
	if err != nil || !reflect.DeepEqual(roles, want) {
		t.Errorf("roles: %v\n got %+v\nwant %+v", err, roles, want)
	}
	segs, err := decodeSegments([]byte(`[{"id":9,"deployment_id":-1,"name":"S","type":"user","created_at":5,"updated_at":6}]`))
	if err != nil || len(segs) != 1 || segs[0].DeploymentID != -1 || segs[0].Type != domain.SegmentUser {
		t.Errorf("segments: %+v %v", segs, err)
	}
	for _, empty := range []string{"[]", "null", " [ ] "} {
		if s, err := decodeSegments([]byte(empty)); err != nil || s == nil || len(s) != 0 {
			t.Errorf("segments %q: %v %v", empty, s, err)
		}
	}
	for _, bad := range []string{"", "[", `[{"id":"x"}]`, `[{"other":1}]`, `[1]`, `[{"id":1}`, `[{"id":1}] x`, `{"id":1}`} {
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
		got, err := decodeStrings([]byte(s))
		var want []string
		jerr := json.Unmarshal([]byte(s), &want)
		if want == nil {
			want = []string{}
		}
		if s == "" {
			return // decodeStrings treats an absent column as []
		}
		if (err == nil) != (jerr == nil) || (err == nil && !reflect.DeepEqual(got, want)) {
			t.Fatalf("%q: got %q, %v; encoding/json %q, %v", s, got, err, want, jerr)
		}
	})
}
