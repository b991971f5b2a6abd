package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/wachtbench/memberships"
)

// TestGitBase walks the choice of the previous contract through a scratch
// repository: nothing before the first change, HEAD~1 on main, the work tree's
// edit against HEAD, the merge-base on a branch, and the latest v* tag.
func TestGitBase(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	t.Chdir(t.TempDir())
	sh := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	commit := func(spec, msg string) {
		t.Helper()
		if err := os.WriteFile("openapi.yaml", []byte(spec), 0o644); err != nil {
			t.Fatal(err)
		}
		sh("add", "openapi.yaml")
		sh("commit", "-q", "-m", msg)
	}
	base := func(want string) {
		t.Helper()
		name, _, err := gitBase("openapi.yaml")
		if want == "" {
			if !errors.Is(err, errNothing) {
				t.Fatalf("gitBase = %q, %v; want nothing to compare", name, err)
			}
			return
		}
		if err != nil || !strings.HasPrefix(name, want) {
			t.Fatalf("gitBase = %q, %v; want %s…", name, err, want)
		}
	}
	v1 := string(memberships.OpenAPI)
	v2 := regexp.MustCompile(`(?m)^  version: [0-9.]+\n`).ReplaceAllString(v1, "  version: 1.99.0\n")

	sh("init", "-q", "-b", "main")
	commit(v1, "first")
	base("") // no previous contract
	commit(v2, "second")
	base("HEAD~1:")
	if err := os.WriteFile("openapi.yaml", []byte(v1), 0o644); err != nil {
		t.Fatal(err)
	}
	base("HEAD:") // the uncommitted edit
	sh("checkout", "-q", "openapi.yaml")
	sh("checkout", "-q", "-b", "feature")
	commit(v1, "on a branch")
	mb, _ := git("merge-base", "HEAD", "main")
	base(mb + ":")
	sh("tag", "v1.1.0", "main")
	base("v1.1.0:")

	// The whole command: a breaking edit on the branch is refused.
	commit(strings.Replace(v2, "required: [status, message, data, session]", "required: [message, data, session]", 1), "breaking")
	var out, errOut bytes.Buffer
	if code := run(nil, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "response-property-became-optional") {
		t.Fatalf("run = %d, want 1 naming the change\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	}
}
