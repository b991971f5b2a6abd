package specgate_test

import (
	"strings"
	"testing"

	"github.com/oasdiff/oasdiff/checker"
	"github.com/wachtbench/memberships"
	"github.com/wachtbench/memberships/internal/specgate"
)

const (
	published = "../../testdata/contract/wacht-published.json"
	allowed   = "../../testdata/contract/allowed-differences.yaml"
)

// compat diffs revision against the published contract and returns the
// changes no allowance covers, and the allowances that cover nothing.
func compat(t *testing.T, revision []byte) (checker.Changes, []specgate.Allowance) {
	t.Helper()
	// The excerpt is OpenAPI 3.1 (with 3.0-style `nullable`); kin-openapi and
	// oasdiff read it as is, nullable included.
	base, err := specgate.LoadFile(published)
	if err != nil {
		t.Fatal(err)
	}
	rev, err := specgate.Load("openapi.yaml", revision)
	if err != nil {
		t.Fatal(err)
	}
	// The published contract leaves the envelope's fields (status, message,
	// data, session, errors) optional, but its clients read them: removing
	// one counts as breaking here, not as oasdiff's default INFO.
	r, err := specgate.Compare(base, rev, checker.WithSeverityLevels(map[string]checker.Level{
		"response-optional-property-removed": checker.ERR,
	}))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Changes) == 0 {
		t.Fatal("no differences at all from the published contract: is the fixture loaded?")
	}
	list, err := specgate.LoadAllowances(allowed)
	if err != nil {
		t.Fatal(err)
	}
	return specgate.Unallowed(r.Changes, list)
}

// A client generated from the published Wacht contract keeps working against
// ours: no field it reads is missing or retyped, no request it may send is
// refused, except the listed, deliberate differences.
func TestCompatibleWithPublished(t *testing.T) {
	unallowed, unused := compat(t, memberships.OpenAPI)
	l := checker.NewDefaultLocalizer()
	for _, c := range unallowed {
		t.Errorf("breaks clients of the published contract: %s %s: %s [%s]", c.GetOperation(), c.GetPath(), c.GetUncolorizedText(l), c.GetId())
	}
	for _, a := range unused {
		t.Errorf("%s: row %s %q matches no difference any more; remove it", allowed, a.ID, a.Match)
	}
}

// The compatibility test can fail: dropping a field the published contract
// promises, or retyping one, is caught.
func TestCompatibleWithPublishedCatchesBreaks(t *testing.T) {
	tests := map[string][]byte{
		"removed member_count": edit(t,
			"required: [id, name, image_url, description, member_count, public_metadata, private_metadata, enforce_2fa,",
			"required: [id, name, image_url, description, public_metadata, private_metadata, enforce_2fa,",
			"        member_count:\n          type: integer\n          format: int64\n          minimum: 0\n          maximum: 9223372036854775807\n          description: Number of (non-deleted) memberships of the workspace.\n          example: 12\n", ""),
		"removed session": edit(t, "required: [status, message, data, session]", "required: [status, message, data]",
			"        session:\n          $ref: '#/components/schemas/SessionSummary'\n", ""),
		"retyped workspace name": edit(t, workspaceName, strings.Replace(workspaceName, "type: string", "type: integer", 1)),
	}
	for name, rev := range tests {
		t.Run(name, func(t *testing.T) {
			if unallowed, _ := compat(t, rev); len(unallowed) == 0 {
				t.Error("not caught")
			}
		})
	}
}
