package specgate_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/wachtbench/memberships"
	"github.com/wachtbench/memberships/internal/specgate"
)

// edit returns a copy of the contract with each old string replaced once; it
// fails the test when one is missing, so an edit never silently does nothing.
func edit(t *testing.T, pairs ...string) []byte {
	t.Helper()
	s := string(memberships.OpenAPI)
	for i := 0; i < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			t.Fatalf("edit: %q not in openapi.yaml", pairs[i])
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	return []byte(s)
}

// version is the contract's info.version line, as it stands.
var version = regexp.MustCompile(`(?m)^  version: [0-9.]+\n`).FindString(string(memberships.OpenAPI))

const (
	// The first property of WorkspaceMembershipsResponse, a required field.
	statusProp = "        status:\n          type: integer\n          description: The HTTP status, repeated.\n          minimum: 100\n          maximum: 599\n          example: 200\n"
	// The Workspace schema's first property, to add an optional one beside it.
	workspaceName = "        name:\n          type: string\n          description: Display name.\n          example: Engineering\n"
	orgIDParam    = "        - $ref: '#/components/parameters/OrgId'\n"
)

func TestGate(t *testing.T) {
	tests := []struct {
		name     string
		revision []byte
		breaking bool // oasdiff finds an ERR change
		pass     bool // the gate lets it through
	}{
		{"unchanged", memberships.OpenAPI, false, true},
		{"removed required response field", edit(t, "required: [status, message, data, session]", "required: [message, data, session]", statusProp, ""), true, false},
		{"removed field with major bump", edit(t, version, "  version: 2.0.0\n", "required: [status, message, data, session]", "required: [message, data, session]", statusProp, ""), true, true},
		{"removed field with minor bump only", edit(t, version, "  version: 1.99.0\n", "required: [status, message, data, session]", "required: [message, data, session]", statusProp, ""), true, false},
		{"retyped response field", edit(t, statusProp, strings.Replace(statusProp, "type: integer", "type: string", 1)), true, false},
		{"new required query parameter", edit(t, orgIDParam, orgIDParam+"        - {name: page, in: query, required: true, schema: {type: string, maxLength: 10}}\n"), true, false},
		{"new optional response field", edit(t, workspaceName, workspaceName+"        nickname:\n          type: string\n          description: Optional short name.\n"), false, true},
	}
	base, err := specgate.Load("base/openapi.yaml", memberships.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rev, err := specgate.Load("openapi.yaml", tt.revision)
			if err != nil {
				t.Fatal(err)
			}
			r, err := specgate.Compare(base, rev)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(r.Breaking()) > 0; got != tt.breaking {
				t.Errorf("breaking = %v, want %v; changes: %v", got, tt.breaking, r.Changes)
			}
			gateErr := r.Gate()
			if (gateErr == nil) != tt.pass {
				t.Errorf("gate passed = %v, want %v (err: %v)", gateErr == nil, tt.pass, gateErr)
			}
			log, err := r.Changelog("text")
			if err != nil {
				t.Fatal(err)
			}
			if changed := len(r.Changes) > 0; changed != strings.Contains(log, "[") {
				t.Errorf("changelog does not list the changes:\n%s", log)
			}
		})
	}
}

func TestGateNamesTheChange(t *testing.T) {
	base, _ := specgate.Load("base", memberships.OpenAPI)
	rev, err := specgate.Load("openapi.yaml", edit(t, "required: [status, message, data, session]", "required: [message, data, session]", statusProp, ""))
	if err != nil {
		t.Fatal(err)
	}
	r, err := specgate.Compare(base, rev)
	if err != nil {
		t.Fatal(err)
	}
	msg := r.Gate().Error()
	for _, want := range []string{"status", "response-required-property-removed", strings.TrimSpace(strings.TrimPrefix(version, "  version:")) + " → " + strings.TrimSpace(strings.TrimPrefix(version, "  version:")), "raise the major version"} {
		if !strings.Contains(msg, want) {
			t.Errorf("gate message lacks %q:\n%s", want, msg)
		}
	}
}

func TestMajorRaised(t *testing.T) {
	tests := []struct {
		base, rev string
		want      bool
		err       bool
	}{
		{"1.0.0", "2.0.0", true, false},
		{"1.4.2", "v2.0.0", true, false},
		{"1.0.0", "1.9.0", false, false},
		{"2.0.0", "1.0.0", false, false},
		{"1.0.0", "next", false, true},
		{"", "1.0.0", false, true},
	}
	for _, tt := range tests {
		got, err := specgate.MajorRaised(tt.base, tt.rev)
		if got != tt.want || (err != nil) != tt.err {
			t.Errorf("MajorRaised(%q, %q) = %v, %v; want %v, err %v", tt.base, tt.rev, got, err, tt.want, tt.err)
		}
	}
}
