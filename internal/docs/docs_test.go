package docs

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"
)

// root is the module's root directory, where go.mod is.
func root(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test's directory")
		}
		dir = parent
	}
}

// pages are the Markdown files the links are checked in: the top level's,
// docs/ and any other README below the root (tools' node_modules aside).
func pages(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case "node_modules", ".git", "bin":
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(d.Name(), ".md") {
			out = append(out, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

var (
	fence      = regexp.MustCompile("(?ms)^ {0,3}(```|~~~).*?^ {0,3}(```|~~~)[^\n]*$")
	inlineCode = regexp.MustCompile("`[^`\n]*`")
	link       = regexp.MustCompile(`\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)
	heading    = regexp.MustCompile(`(?m)^ {0,3}#{1,6}[ \t]+(.+?)[ \t#]*$`)
	mdLink     = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`)
)

// prose is a page without its code: links and headings in code are text.
func prose(md string) string {
	return inlineCode.ReplaceAllString(fence.ReplaceAllString(md, ""), "")
}

// slug is the anchor GitHub gives a heading: lower case, punctuation but
// '-' and '_' dropped, spaces as '-'.
func slug(h string) string {
	h = mdLink.ReplaceAllString(h, "$1")
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// anchors are the heading anchors of a page, duplicates numbered as
// GitHub numbers them.
func anchors(md string) map[string]bool {
	seen := map[string]int{}
	out := map[string]bool{}
	for _, m := range heading.FindAllStringSubmatch(fence.ReplaceAllString(md, ""), -1) {
		s := slug(strings.ReplaceAll(m[1], "`", ""))
		if n := seen[s]; n > 0 {
			out[fmt.Sprintf("%s-%d", s, n)] = true
		} else {
			out[s] = true
		}
		seen[s]++
	}
	return out
}

// TestLinksResolve: every relative link of every page names a file that
// exists and, with a #fragment into Markdown, a heading of that file.
func TestLinksResolve(t *testing.T) {
	root := root(t)
	read := map[string]string{}
	load := func(path string) (string, error) {
		if s, ok := read[path]; ok {
			return s, nil
		}
		b, err := os.ReadFile(path)
		read[path] = string(b)
		return string(b), err
	}
	checked := 0
	for _, page := range pages(t, root) {
		md, err := load(page)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, page)
		for _, m := range link.FindAllStringSubmatch(prose(md), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			checked++
			file, frag, _ := strings.Cut(target, "#")
			path := page
			if file != "" {
				path = filepath.Join(filepath.Dir(page), filepath.FromSlash(file))
			}
			if _, err := os.Stat(path); err != nil {
				t.Errorf("%s: link %q: %s does not exist", rel, target, file)
				continue
			}
			if frag == "" || !strings.HasSuffix(path, ".md") {
				continue
			}
			body, err := load(path)
			if err != nil {
				t.Fatal(err)
			}
			if !anchors(body)[frag] {
				t.Errorf("%s: link %q: no heading #%s in %s", rel, target, frag, file)
			}
		}
	}
	if checked < 20 {
		t.Errorf("only %d relative links found: is the parser broken?", checked)
	}
}

// TestMakeTargetsExist: every `make TARGET` the README and docs/ name is a
// target of the Makefile.
func TestMakeTargetsExist(t *testing.T) {
	root := root(t)
	targets := map[string]bool{}
	f, err := os.Open(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rule := regexp.MustCompile(`^([a-z][a-z0-9-]*):`)
	for sc := bufio.NewScanner(f); sc.Scan(); {
		if m := rule.FindStringSubmatch(sc.Text()); m != nil {
			targets[m[1]] = true
		}
	}
	// In code only: inline spans and fenced lines ("make an (id, version)
	// pair" is prose).
	named := regexp.MustCompile("(?m)(?:`|^(?:[A-Z_]+=\\S+ )*)make ([a-z][a-z0-9-]*)")
	docs, _ := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	for _, page := range append(docs, filepath.Join(root, "README.md"), filepath.Join(root, "BENCHMARKS.md")) {
		b, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, page)
		for _, m := range named.FindAllStringSubmatch(string(b), -1) {
			if !targets[m[1]] {
				t.Errorf("%s names `make %s`, which the Makefile does not have", rel, m[1])
			}
		}
	}
}

// TestReadmeNamesEveryCommand: the README's table of the binary lists
// every command `memberships --help` shows (its golden, internal/cli).
func TestReadmeNamesEveryCommand(t *testing.T) {
	root := root(t)
	help, err := os.ReadFile(filepath.Join(root, "internal", "cli", "testdata", "help", "root.txt"))
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, cmds, ok := strings.Cut(string(help), "Available Commands:\n")
	if !ok {
		t.Fatal("root.txt has no Available Commands")
	}
	n := 0
	for line := range strings.Lines(cmds) {
		f := strings.Fields(line)
		if len(f) == 0 {
			break
		}
		if slices.Contains([]string{"completion", "help"}, f[0]) {
			continue
		}
		n++
		if !strings.Contains(string(readme), "| `memberships "+f[0]) {
			t.Errorf("README.md's table of the binary lacks `memberships %s`", f[0])
		}
	}
	if n < 5 {
		t.Errorf("only %d commands found in root.txt", n)
	}
}

// TestFrontDoorIsShort: the README and BENCHMARKS.md stay within the words
// issue 23 gave them (as wc -w counts); what does not fit goes to docs/.
func TestFrontDoorIsShort(t *testing.T) {
	root := root(t)
	for file, most := range map[string]int{"README.md": 1500, "BENCHMARKS.md": 1200} {
		b, err := os.ReadFile(filepath.Join(root, file))
		if err != nil {
			t.Fatal(err)
		}
		if n := len(strings.Fields(string(b))); n > most {
			t.Errorf("%s has %d words, more than %d: move the detail into a page under docs/", file, n, most)
		}
	}
}
