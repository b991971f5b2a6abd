package main

import (
	"os/exec"
	"strings"
	"testing"
)

// The binaries are built from code that tests nothing: no package of cmd/
// may pull in "testing" (pgtest, storetest…), directly or not.
func TestCommandsImportNoTestPackage(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/wachtbench/memberships/cmd/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if pkg == "testing" || strings.HasSuffix(pkg, "test") && strings.Contains(pkg, "wachtbench") {
			t.Errorf("cmd/ depends on %s", pkg)
		}
	}
}
