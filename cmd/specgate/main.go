// Command specgate is `make check-breaking`: it compares openapi.yaml with the
// previous contract, prints oasdiff's changelog of the change, and exits 1 on
// a breaking change unless info.version's major number was raised.
//
// The previous contract is -base FILE, or else the spec at the base of the
// change in git: the latest v* tag when there is one, otherwise the merge-base
// with main. When that base is HEAD itself (on main, as in CI), the change is
// the uncommitted edit if there is one, otherwise the last commit (HEAD~1).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"github.com/wachtbench/memberships/internal/specgate"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("specgate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	baseFile := fs.String("base", "", "previous contract `file` (default: from git, see the package doc)")
	format := fs.String("format", "text", "changelog format: text, markdown, html, json, yaml, singleline")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	revPath := "openapi.yaml"
	if fs.NArg() > 0 {
		revPath = fs.Arg(0)
	}
	rev, err := specgate.LoadFile(revPath)
	if err != nil {
		fmt.Fprintln(stderr, "check-breaking:", err)
		return 2
	}

	var baseName string
	var baseData []byte
	if *baseFile != "" {
		baseName = *baseFile
		baseData, err = os.ReadFile(*baseFile)
	} else {
		baseName, baseData, err = gitBase(revPath)
	}
	if errors.Is(err, errNothing) {
		fmt.Fprintf(stdout, "check-breaking: nothing to compare %s with: %v\n", revPath, err)
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "check-breaking:", err)
		return 2
	}
	base, err := specgate.Load(baseName, baseData)
	if err != nil {
		fmt.Fprintln(stderr, "check-breaking:", err)
		return 2
	}

	r, err := specgate.Compare(base, rev)
	if err != nil {
		fmt.Fprintln(stderr, "check-breaking:", err)
		return 2
	}
	log, err := r.Changelog(*format)
	if err != nil {
		fmt.Fprintln(stderr, "check-breaking:", err)
		return 2
	}
	fmt.Fprintf(stdout, "check-breaking: %s (%s) → %s (%s)\n", baseName, base.GetVersion(), revPath, rev.GetVersion())
	fmt.Fprintln(stdout, strings.TrimSpace(log))
	if err := r.Gate(); err != nil {
		fmt.Fprintln(stderr, "check-breaking: FAIL:", err)
		return 1
	}
	fmt.Fprintf(stdout, "check-breaking: ok (%d breaking change(s), %d change(s) in all)\n", len(r.Breaking()), len(r.Changes))
	return 0
}

var errNothing = errors.New("nothing to compare")

// gitBase finds the previous version of file (see the package doc) and
// returns its name, e.g. "v1.2.0:openapi.yaml", and content.
func gitBase(file string) (string, []byte, error) {
	head, err := git("rev-parse", "HEAD")
	if err != nil {
		return "", nil, fmt.Errorf("%w: not in a git work tree with a commit (%v)", errNothing, err)
	}
	base, err := git("describe", "--tags", "--abbrev=0", "--match", "v*", "HEAD")
	if err != nil {
		base = head // no tag: try main, else stay on HEAD
		for _, b := range []string{"main", "origin/main"} {
			if mb, err := git("merge-base", "HEAD", b); err == nil {
				base = mb
				break
			}
		}
	}
	if c, err := git("rev-parse", base+"^{commit}"); err == nil && c == head {
		// The base is HEAD: judge the uncommitted edit, else the last commit.
		if _, err := git("diff", "--quiet", "HEAD", "--", file); err != nil {
			base = "HEAD"
		} else {
			base = "HEAD~1"
		}
	}
	data, err := exec.Command("git", "show", base+":./"+file).Output()
	if err != nil {
		return "", nil, fmt.Errorf("%w: %s has no %s", errNothing, base, file)
	}
	return base + ":" + file, data, nil
}

func git(args ...string) (string, error) {
	out, err := exec.Command("git", args...).Output()
	return strings.TrimSpace(string(out)), err
}
