package loadfile

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// hostile are files built to exhaust the parser, each just past (or at) a
// limit, with what the refusal must say.
var hostile = map[string]struct {
	name string
	data func() string
	want []string
}{
	// 715 bytes: nine levels of ten aliases, 10^9 strings once expanded.
	"alias bomb in metadata": {"x.yaml", func() string {
		s := "deployments:\n- hosts: [a.test]\n  organizations:\n  - name: O\n    public_metadata:\n      a0: &a0 [lol,lol,lol,lol,lol,lol,lol,lol,lol,lol]\n"
		for i := 1; i < 9; i++ {
			s += fmt.Sprintf("      a%d: &a%d [*a%d,*a%d,*a%d,*a%d,*a%d,*a%d,*a%d,*a%d,*a%d,*a%d]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
		}
		return s
	}, []string{"deployments[0].organizations[0].public_metadata.a5[6]: line 11: aliases expand the file past 750000 values"}},
	"alias bomb in the structure": {"x.yaml", func() string {
		s := "deployments:\n  - hosts: [a.test]\n    users: [&u0 {email: a@b.test}]\n"
		for i := 1; i < 8; i++ {
			s += fmt.Sprintf("    x%d: &u%d [*u%d,*u%d,*u%d,*u%d,*u%d,*u%d,*u%d,*u%d,*u%d,*u%d]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
		}
		return s
	}, []string{"deployments[0].x6[2]: line 9: aliases expand the file past 750000 values"}},
	"alias in its own anchor": {"x.yaml", func() string {
		return "deployments: &d [{hosts: [a.test], organizations: *d}]\n"
	}, []string{"deployments[0].organizations: line 1: alias *d is inside its own anchor"}},
	"JSON nested 300,000 deep": {"x.json", func() string {
		return `{"deployments": [{"hosts": ["a.test"], "organizations": [{"name": "O", "public_metadata": {"a": ` +
			strings.Repeat("[", 300_000) + strings.Repeat("]", 300_000) + "}}]}]}"
	}, []string{"deployments[0].organizations[0].public_metadata.a" + strings.Repeat("[0]", 58) + ": line 1: lists and mappings nest deeper than 64 levels"}},
	"YAML nested 9,000 deep": {"x.yaml", func() string {
		return "deployments: " + strings.Repeat("[", 9000) + strings.Repeat("]", 9000) + "\n"
	}, []string{"deployments" + strings.Repeat("[0]", 63) + ": line 1: lists and mappings nest deeper than 64 levels"}},
	"a 9 MiB first_name": {"x.yaml", func() string {
		return "deployments: [{hosts: [a.test], users: [{email: a@b.test, first_name: " + strings.Repeat("x", 9<<20) + "}]}]\n"
	}, []string{"the file has 9437259 bytes; the limit is 8388608 (8 MiB)"}},
	"a 7 MiB first_name": {"x.yaml", func() string {
		return "deployments: [{hosts: [a.test], users: [{email: a@b.test, first_name: " + strings.Repeat("x", 7<<20) + "}]}]\n"
	}, []string{"deployments[0].users[0].first_name: 7340032 bytes long; the limit is 1024 (line 1)"}},
	"a 7 MiB metadata string": {"x.json", func() string {
		return `{"deployments": [{"hosts": ["a.test"], "organizations": [{"name": "O", "public_metadata": {"a": "` + strings.Repeat("x", 7<<20) + `"}}]}]}`
	}, []string{"deployments[0].organizations[0].public_metadata: line 1: more than 8192 bytes as JSON"}},
	// The most values per byte either format allows, just under the limits.
	"YAML keys without values": {"x.yaml", func() string {
		return "deployments: [{hosts: [a.test]}]\nx: {" + strings.Repeat("a,", MaxValues/2-9) + "a}"
	}, []string{"x: unknown field (line 2)"}},
	"YAML keys without values, one more": {"x.yaml", func() string {
		return "deployments: [{hosts: [a.test]}]\nx: {" + strings.Repeat("a,", MaxValues/2-8) + "a}"
	}, []string{"the file may hold up to 750002 values", "the limit is 750000"}},
	"JSON values": {"x.json", func() string {
		return "[" + strings.Repeat("0,", MaxValues-2) + "0]"
	}, []string{": expected a mapping, got a list (line 1)"}},
	"JSON values, one more": {"x.json", func() string {
		return "[" + strings.Repeat("0,", MaxValues-1) + "0]"
	}, []string{"line 1: the file holds more than 750000 values"}},
	"unknown keys with long names": {"x.json", func() string {
		var b strings.Builder
		b.WriteString(`{"deployments": [{"hosts": ["a.test"]`)
		for i := range 1000 {
			fmt.Fprintf(&b, `, "%d%s": 0`, i, strings.Repeat("k", 4000))
		}
		return b.String() + "}]}"
	}, []string{"deployments[0].0kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk…(4001 bytes): unknown field", "… and 980 more errors"}},
}

func TestParseLimits(t *testing.T) {
	tests := []struct {
		name, file, data string
		want             []string
	}{
		{"metadata 16 levels deep", "x.yaml", "deployments: [{hosts: [a.test], organizations: [{name: O, public_metadata: {a: " + strings.Repeat("[", 15) + strings.Repeat("]", 15) + "}}]}]", nil},
		{"metadata 17 levels deep", "x.yaml", "deployments: [{hosts: [a.test], organizations: [{name: O, public_metadata: {a: " + strings.Repeat("[", 16) + strings.Repeat("]", 16) + "}}]}]",
			[]string{"deployments[0].organizations[0].public_metadata: line 1: nested deeper than 16 levels"}},
		{"metadata at 8 KiB", "x.json", `{"deployments": [{"hosts": ["a.test"], "organizations": [{"name": "O", "workspaces": [{"name": "W", "public_metadata": {"a": "` + strings.Repeat("x", MaxMetadataBytes-8) + `"}}]}]}]}`, nil},
		{"metadata past 8 KiB", "x.json", `{"deployments": [{"hosts": ["a.test"], "organizations": [{"name": "O", "workspaces": [{"name": "W", "public_metadata": {"a": "` + strings.Repeat("x", MaxMetadataBytes-7) + `"}}]}]}]}`,
			[]string{"deployments[0].organizations[0].workspaces[0].public_metadata: line 1: more than 8192 bytes as JSON"}},
		{"metadata past 8 KiB once escaped", "x.json", `{"deployments": [{"hosts": ["a.test"], "organizations": [{"name": "O", "private_metadata": {"a": "` + strings.Repeat(`\u0001`, 2000) + `"}}]}]}`,
			[]string{"deployments[0].organizations[0].private_metadata: 12008 bytes as JSON; the limit is 8192"}},
		{"description at 4 KiB", "x.yaml", "deployments: [{hosts: [a.test], organizations: [{name: O, description: " + strings.Repeat("d", 4096) + "}]}]", nil},
		{"description past 4 KiB", "x.yaml", "deployments: [{hosts: [a.test], organizations: [{name: O, description: " + strings.Repeat("d", 4097) + "}]}]",
			[]string{"deployments[0].organizations[0].description: 4097 bytes long; the limit is 4096"}},
		{"a host past 1 KiB", "x.yaml", "deployments: [{hosts: [a.test, " + strings.Repeat("h", 1025) + "]}]",
			[]string{"deployments[0].hosts[1]: 1025 bytes long; the limit is 1024"}},
		{"invalid UTF-8 in JSON", "x.json", "{\"deployments\": [{\"hosts\": [\"a.test\"],\n \"users\": [{\"email\": \"\xffa@b.test\"}]}]}",
			[]string{"line 2, column 23: invalid UTF-8 (byte 0xff)"}},
		{"invalid UTF-8 in YAML", "x.yaml", "deployments: [{hosts: [a.test], users: [{first_name: Jos\xe9, email: a@b.test}]}]",
			[]string{"line 1, column 57: invalid UTF-8 (byte 0xe9)"}},
		{"a repeated anchor within the limits", "x.yaml", "w: &w {name: W}\ndeployments: [{hosts: [a.test], organizations: [{name: O, workspaces: [*w]}]}]", []string{"w: unknown field"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.file, []byte(tt.data), now)
			checkErr(t, err, tt.want)
		})
	}
}

func checkErr(t *testing.T, err error, want []string) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	if len(msg) > 8<<10 {
		t.Errorf("the error has %d bytes", len(msg))
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error\n%.2000s\ndoes not mention %q", msg, w)
		}
	}
}

// TestParseHostileInBoundedMemory parses each hostile file in a child process
// and reads its peak resident memory from the kernel.
func TestParseHostileInBoundedMemory(t *testing.T) {
	if name := os.Getenv("LOADER_HOSTILE"); name != "" {
		h := hostile[name]
		_, err := Parse(h.name, []byte(h.data()), now)
		checkErr(t, err, h.want)
		return
	}
	if testing.Short() {
		t.Skip("parses about 150 MiB of hostile input")
	}
	const limit = 256 << 20
	for name := range hostile {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestParseHostileInBoundedMemory$", "-test.v")
			cmd.Env = append(os.Environ(), "LOADER_HOSTILE="+name)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			peak := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10 // KiB on Linux
			t.Logf("peak resident memory %d MiB", peak>>20)
			if peak > limit {
				t.Errorf("peak resident memory %d MiB, above %d MiB", peak>>20, limit>>20)
			}
		})
	}
}
