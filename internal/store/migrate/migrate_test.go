package migrate

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestCheck(t *testing.T) {
	fsys := fstest.MapFS{}
	for _, v := range []string{"0001_a", "0002_b", "0003_c", "0005_e"} {
		fsys["migrations/"+v+".sql"] = &fstest.MapFile{Data: []byte("SELECT 1")}
	}
	released := map[string]bool{"0002_b": true}
	for _, c := range []struct {
		name    string
		applied []string
		want    string // "" for no error, else substrings of it
	}{
		{"fresh", nil, ""},
		{"part way", []string{"0001_a", "0002_b"}, ""},
		{"all, recorded in any order", []string{"0005_e", "0001_a", "0003_c", "0002_b"}, ""},
		{"released out of order, still pending", []string{"0001_a", "0003_c"}, ""},
		{"unknown", []string{"0001_a", "0004_x", "0009_y"}, "does not know: 0004_x, 0009_y"},
		{"a gap", []string{"0001_a", "0002_b", "0005_e"}, "0003_c are not applied, but the later 0005_e is"},
	} {
		err := Check(fsys, c.applied, released)
		if c.want == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", c.name, err, c.want)
		}
	}
}
