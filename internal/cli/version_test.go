package cli

import (
	"regexp"
	"testing"
)

func TestVersion(t *testing.T) {
	for _, tc := range []struct {
		version, commit string
		want            string
	}{
		{"v1.2.3", "0123abc", `^memberships v1\.2\.3 \(commit 0123abc, contract \d+\.\d+\.\d+\)\n$`},
		{"", "", `^memberships \S+ \(commit \S+, contract \d+\.\d+\.\d+\)\n$`},
	} {
		version, commit = tc.version, tc.commit
		code, out, stderr := run(t, "version")
		version, commit = "", ""
		if code != 0 || !regexp.MustCompile(tc.want).MatchString(out) {
			t.Errorf("version %q commit %q: %d %q %s", tc.version, tc.commit, code, out, stderr)
		}
	}
}
