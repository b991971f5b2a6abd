package specgate_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestLintSpecCanFail runs the project's Spectral ruleset, as `make lint-spec`
// does (which lints the contract itself), on a copy of the contract with an
// unbounded string parameter: the OWASP rules must refuse it, there and only
// there. It needs the pinned Spectral (`make lint-spec` installs it) and
// skips without.
func TestLintSpecCanFail(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	spectral := filepath.Join(root, "tools/spectral/node_modules/.bin/spectral")
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("Node is not installed; `make lint-spec` needs it")
	}
	if _, err := os.Stat(spectral); err != nil {
		t.Skip("Spectral is not installed; `make lint-spec` installs it (needs Node)")
	}
	ruleset, err := os.ReadFile(filepath.Join(root, ".spectral.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// The ruleset's overrides name openapi.yaml next to it: lint copies in a
	// temporary folder, with the OWASP ruleset's path made absolute.
	rs := strings.ReplaceAll(string(ruleset), "./tools/spectral/", root+"/tools/spectral/")

	lint := func(spec []byte) (string, error) {
		dir := t.TempDir()
		for name, data := range map[string][]byte{".spectral.yaml": []byte(rs), "openapi.yaml": spec} {
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		cmd := exec.Command(spectral, "lint", "--ruleset", ".spectral.yaml", "--fail-severity=warn", "openapi.yaml")
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	bad := edit(t, orgIDParam, orgIDParam+"        - {name: q, in: query, required: false, schema: {type: string}}\n")
	out, err := lint(bad)
	if err == nil || !strings.Contains(out, "owasp:api4:2023-string-limit") {
		t.Fatalf("an unbounded string parameter passed the lint (err %v):\n%s", err, out)
	}
	if !strings.Contains(out, "parameters[1].schema") || strings.Contains(out, "components.") {
		t.Errorf("the lint should fault the new parameter and nothing else:\n%s", out)
	}
}
