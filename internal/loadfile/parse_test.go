package loadfile

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wachtbench/memberships/internal/domain"
)

var now = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func parseFile(t *testing.T, name string) *domain.Dataset {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := Parse(name, data, now)
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return ds
}

func TestParseGood(t *testing.T) {
	ds := parseFile(t, "testdata/good.yaml")
	ts := func(s string) time.Time { t, _ := time.Parse(time.RFC3339, s); return t }
	nowTimes := domain.Times{CreatedAt: now, UpdatedAt: now}
	// Given only a past deleted_at, the other timestamps default to it.
	deleted := ts("2024-04-01T00:00:00Z")
	deletedTimes := domain.Times{CreatedAt: deleted, UpdatedAt: deleted, DeletedAt: &deleted}

	d := ds.Deployments[0]
	if d.ID != 1 || d.Path != "deployments[0]" || d.Mode != domain.ModeStaging ||
		!d.IPAllowlistPerWorkspaceEnabled || d.EnforceMFAPerWorkspaceEnabled ||
		!reflect.DeepEqual(d.Hosts, []string{"example.com", "::1"}) || d.Times != nowTimes {
		t.Errorf("deployment = %+v", d)
	}
	checkKeyPair(t, d)

	want := &domain.Dataset{
		Deployments: ds.Deployments,
		Segments: []domain.SegmentRecord{
			{Path: "deployments[0].segments[0]", ID: 10, DeploymentID: 1, Name: "vip", Type: domain.SegmentUser, Times: nowTimes},
			{Path: "deployments[0].segments[1]", ID: 11, DeploymentID: 1, Name: "12", Type: domain.SegmentWorkspace, Times: nowTimes},
		},
		Users: []domain.UserRecord{
			{Path: "deployments[0].users[0]", ID: 20, DeploymentID: 1, Email: "Ann@Example.com", FirstName: "Ann", BackupCodesGenerated: true,
				Times: domain.Times{CreatedAt: ts("2024-03-01T08:00:00Z"), UpdatedAt: ts("2024-03-01T08:00:00Z")}},
			{Path: "deployments[0].users[1]", ID: 22, DeploymentID: 1, Email: "bob@example.com",
				Times: domain.Times{CreatedAt: ts("2024-03-01T08:00:00Z"), UpdatedAt: ts("2024-03-02T08:00:00Z")}},
		},
		Authenticators: []domain.AuthenticatorRecord{
			{Path: "deployments[0].users[0].authenticators[0]", ID: 21, UserID: 20, Type: "totp", Times: nowTimes},
		},
		Organizations: []domain.OrganizationRecord{{
			Path: "deployments[0].organizations[0]", ID: 30, DeploymentID: 1, Name: "Acme", ImageURL: "https://img.example.com/a.png",
			PublicMetadata:          []byte(`{"big":12345678901234567890123,"html":"<b>&</b>","nested":{"a":[true,null,1.5],"z":1},"plan":"pro"}`),
			PrivateMetadata:         []byte(`{"secret":"s"}`),
			WhitelistedIPs:          []string{"10.0.0.0/8", "bogus"},
			AutoAssignedWorkspaceID: ptr(int64(40)),
			SegmentIDs:              []int64{10, 11}, // "11" is an id
			Times:                   nowTimes,
		}},
		Workspaces: []domain.WorkspaceRecord{{
			Path: "deployments[0].organizations[0].workspaces[0]", ID: 40, DeploymentID: 1, OrganizationID: 30, Name: "Main",
			PublicMetadata: []byte(`{}`), PrivateMetadata: []byte(`{}`),
			Enforce2FA: true, EnableIPRestriction: true,
			WhitelistedIPs: []string{" 127.0.0.1 "},
			SegmentIDs:     []int64{11}, // "12" is no id, so the segment named "12"
			Times:          nowTimes,
		}},
		OrganizationRoles: []domain.RoleRecord{
			{Path: "deployments[0].organizations[0].roles[0]", ID: 31, DeploymentID: 1, ScopeID: 30, Name: "Owner", Permissions: []string{"organization:admin"}, Times: nowTimes},
		},
		WorkspaceRoles: []domain.RoleRecord{
			{Path: "deployments[0].organizations[0].workspaces[0].roles[0]", ID: 41, DeploymentID: 1, ScopeID: 40, Name: "Admin", Permissions: []string{"workspace:admin", "workspace:read"}, Times: nowTimes},
			{Path: "deployments[0].organizations[0].workspaces[0].roles[1]", ID: 42, DeploymentID: 1, ScopeID: 40, Name: "Reader", Permissions: []string{}, Times: nowTimes},
		},
		OrganizationMemberships: []domain.OrganizationMembershipRecord{
			{Path: "deployments[0].organizations[0].members[0]", ID: 32, OrganizationID: 30, UserID: 20, RoleIDs: []int64{31}, Times: nowTimes},
			// Implicit: bob is a workspace member only.
			{Path: "deployments[0].organizations[0].workspaces[0].members[1]", ID: implicitID(t, ds), OrganizationID: 30, UserID: 22, RoleIDs: []int64{}, Times: domain.Times{CreatedAt: deleted, UpdatedAt: deleted}},
		},
		WorkspaceMemberships: []domain.WorkspaceMembershipRecord{
			{Path: "deployments[0].organizations[0].workspaces[0].members[0]", ID: 43, WorkspaceID: 40, OrganizationID: 30, OrganizationMembershipID: 32, UserID: 20,
				PublicMetadata: []byte(`{"title":"boss"}`), RoleIDs: []int64{41, 42}, Times: nowTimes},
			{Path: "deployments[0].organizations[0].workspaces[0].members[1]", ID: 44, WorkspaceID: 40, OrganizationID: 30, OrganizationMembershipID: implicitID(t, ds), UserID: 22,
				PublicMetadata: []byte(`{}`), RoleIDs: []int64{}, Times: deletedTimes},
		},
	}
	if !reflect.DeepEqual(ds, want) {
		diff(t, ds, want)
	}

	// The JSON spelling of the same data gives the same data set.
	js := parseFile(t, "testdata/good.json")
	js.OrganizationMemberships[1].ID = implicitID(t, ds)
	js.WorkspaceMemberships[1].OrganizationMembershipID = implicitID(t, ds)
	if !reflect.DeepEqual(js, ds) {
		diff(t, js, ds)
	}
}

func implicitID(t *testing.T, ds *domain.Dataset) int64 {
	t.Helper()
	if len(ds.OrganizationMemberships) != 2 {
		t.Fatalf("want 2 organization memberships, got %+v", ds.OrganizationMemberships)
	}
	return ds.OrganizationMemberships[1].ID
}

func diff(t *testing.T, got, want *domain.Dataset) {
	t.Helper()
	g, w := reflect.ValueOf(got).Elem(), reflect.ValueOf(want).Elem()
	for i := range g.NumField() {
		if !reflect.DeepEqual(g.Field(i).Interface(), w.Field(i).Interface()) {
			t.Errorf("%s:\n got %s\nwant %s", g.Type().Field(i).Name, show(g.Field(i)), show(w.Field(i)))
		}
	}
}

func show(v reflect.Value) string {
	var b strings.Builder
	for i := range v.Len() {
		fmt.Fprintf(&b, "\n  %+v", v.Index(i).Interface())
	}
	return b.String()
}

func ptr[T any](v T) *T { return &v }

func checkKeyPair(t *testing.T, d domain.DeploymentRecord) {
	t.Helper()
	priv, _ := pem.Decode(d.PrivateKeyPEM)
	pub, _ := pem.Decode(d.PublicKeyPEM)
	if priv == nil || priv.Type != "PRIVATE KEY" || pub == nil || pub.Type != "PUBLIC KEY" {
		t.Fatalf("key PEM types: %q / %q", d.PrivateKeyPEM, d.PublicKeyPEM)
	}
	k, err := x509.ParsePKCS8PrivateKey(priv.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	p, err := x509.ParsePKIXPublicKey(pub.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if !p.(*ecdsa.PublicKey).Equal(&k.(*ecdsa.PrivateKey).PublicKey) {
		t.Error("public key does not match private key")
	}
}

func TestGeneratedIDsNoKeys(t *testing.T) {
	ds, err := Parse("x.yaml", []byte(`
deployments:
  - hosts: [a.test]
    users: [{email: a@b.test}]
    organizations: [{name: O, workspaces: [{name: W, members: [{user: a@b.test}]}]}]
`), now)
	if err != nil {
		t.Fatal(err)
	}
	if d := ds.Deployments[0]; d.PrivateKeyPEM != nil || d.PublicKeyPEM != nil {
		t.Errorf("Parse made a key pair; parsing is pure, the store makes missing keys")
	}
	if ds.Deployments[0].Mode != domain.ModeProduction {
		t.Errorf("mode defaults to %q", ds.Deployments[0].Mode)
	}
	seen := map[int64]bool{}
	for _, id := range []int64{ds.Deployments[0].ID, ds.Users[0].ID, ds.Organizations[0].ID, ds.Workspaces[0].ID,
		ds.OrganizationMemberships[0].ID, ds.WorkspaceMemberships[0].ID} {
		if id <= 0 || seen[id] {
			t.Errorf("bad or repeated generated id %d", id)
		}
		seen[id] = true
	}
	wm := ds.WorkspaceMemberships[0]
	if wm.OrganizationMembershipID != ds.OrganizationMemberships[0].ID || wm.UserID != ds.Users[0].ID ||
		wm.OrganizationID != ds.Organizations[0].ID || ds.Organizations[0].AutoAssignedWorkspaceID != nil {
		t.Errorf("references not resolved: %+v", ds)
	}
}

const ed25519Key = `-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIP7ujbWhI8M0MU7UVocYPbaj0qlnuv/Vk3G7FYm17ghg
-----END PRIVATE KEY-----`

func TestParseBad(t *testing.T) {
	// in builds a file with one deployment holding a@b.test, organization O
	// and its workspace W; the arguments go into those entries.
	in := func(dep, org, ws string) string {
		return fmt.Sprintf(`deployments: [{hosts: [a.test], users: [{email: a@b.test}], %s
  organizations: [{name: O, %s workspaces: [{name: W, %s}]}]}]`, dep, org, ws)
	}
	const w = "deployments[0].organizations[0].workspaces[0]"
	tests := []struct {
		name, file, data string
		want             []string
	}{
		{"empty file", "x.yaml", "# nothing\n", []string{"empty file"}},
		{"no deployments", "x.yaml", "deployments: []", []string{"deployments: at least one deployment is required"}},
		{"yaml syntax", "x.yaml", "deployments: [", []string{"invalid YAML"}},
		{"two documents", "x.yaml", in("", "", "") + "\n---\n" + in("", "", ""), []string{"single document"}},
		{"json syntax", "x.json", "{\n\"deployments\": [}", []string{"invalid JSON at line 2"}},
		{"json trailing data", "x.json", `{"deployments": []} {}`, []string{"invalid JSON"}},
		{"json unknown field", "x.json", `{"deployments": [{"hosts": ["a.test"], "nope": 1}]}`, []string{"deployments[0].nope: unknown field (line 1)"}},
		{"json detected by content", "x.txt", `{"deployments": [{"hosts": ["a.test"], "id": "0"}]}`, []string{"deployments[0].id: expected a positive decimal integer"}},
		{"top-level not a mapping", "x.yaml", "[1]", []string{": expected a mapping"}},

		{"unknown field", "x.yaml", in("colour: red,", "", ""), []string{`deployments[0].colour: unknown field`}},
		{"unknown workspace field", "x.yaml", in("", "", "enforce_mfa: true"), []string{w + `.enforce_mfa: unknown field (line 2)`}},
		{"field given twice", "x.yaml", "deployments: [{hosts: [a.test], hosts: [b.test]}]", []string{"deployments[0].hosts: given twice"}},
		{"bool spelt yes", "x.yaml", in("ip_allowlist_per_workspace_enabled: yes,", "", ""), []string{`deployments[0].ip_allowlist_per_workspace_enabled: expected true or false, got "yes"`}},
		{"list expected", "x.yaml", "deployments: [{hosts: a.test}]", []string{"deployments[0].hosts: expected a list"}},
		{"string expected", "x.yaml", in("", "", "whitelisted_ips: [{a: 1}]"), []string{w + ".whitelisted_ips[0]: expected a string, got a mapping"}},

		{"hosts missing", "x.yaml", "deployments: [{mode: staging}]", []string{"deployments[0].hosts: at least one host is required"}},
		{"host with port", "x.yaml", "deployments: [{hosts: ['a.test:8080']}]", []string{"deployments[0].hosts[0]:", "without port"}},
		{"origin with path", "x.yaml", "deployments: [{hosts: [a.test], allowed_origins: ['https://a.test/app']}]", []string{"deployments[0].allowed_origins[0]:", "not an origin"}},
		{"origin without scheme", "x.yaml", "deployments: [{hosts: [a.test], allowed_origins: ['a.test']}]", []string{"deployments[0].allowed_origins[0]:", "not an origin"}},
		{"origin twice", "x.yaml", "deployments: [{hosts: [a.test], allowed_origins: ['https://A.test', 'https://a.test']}]", []string{"deployments[0].allowed_origins[1]:", "listed twice"}},
		{"cookie domain of another site", "x.yaml", "deployments: [{hosts: [api.a.test], cookie_domain: b.test}]", []string{"deployments[0].cookie_domain:", `does not cover the primary host "api.a.test"`}},
		{"cookie domain a suffix but no parent", "x.yaml", "deployments: [{hosts: [api.xa.test], cookie_domain: a.test}]", []string{"deployments[0].cookie_domain:", "does not cover"}},
		{"cookie domain a top-level domain", "x.yaml", "deployments: [{hosts: [api.a.test], cookie_domain: test}]", []string{"deployments[0].cookie_domain:", "top-level domain"}},
		{"cookie domain with port", "x.yaml", "deployments: [{hosts: [a.test], cookie_domain: 'a.test:443'}]", []string{"deployments[0].cookie_domain:", "without port"}},
		// Domains browsers share between sites, from the Public Suffix List
		// (ICANN and private sections, a wildcard rule), given or defaulted.
		{"cookie domain a public suffix", "x.yaml", "deployments: [{hosts: [api.example.co.uk], cookie_domain: co.uk}]", []string{`deployments[0].cookie_domain: "co.uk" is a public suffix`}},
		{"cookie domain a private public suffix", "x.yaml", "deployments: [{hosts: [app.github.io], cookie_domain: .GitHub.io.}]", []string{`deployments[0].cookie_domain: "github.io" is a public suffix`}},
		{"cookie domain under a wildcard rule", "x.yaml", "deployments: [{hosts: [api.shop.ck], cookie_domain: shop.ck}]", []string{`deployments[0].cookie_domain: "shop.ck" is a public suffix`}},
		{"cookie domain the host, a public suffix", "x.yaml", "deployments: [{hosts: [github.io], cookie_domain: github.io}]", []string{`deployments[0].cookie_domain: "github.io" is a public suffix`}},
		{"default cookie domain a public suffix", "x.yaml", "deployments: [{hosts: [frontend.github.io]}]", []string{`deployments[0].cookie_domain: the default`, `"github.io" is a public suffix`, "set cookie_domain"}},
		{"default cookie domain a top-level domain", "x.yaml", "deployments: [{hosts: [frontend.localhost]}]", []string{`deployments[0].cookie_domain: the default`, "top-level domain"}},
		// An address's cookie is its own: no domain, not even the address.
		{"cookie domain on an IPv4 host", "x.yaml", "deployments: [{hosts: [192.0.2.1], cookie_domain: 192.0.2.1}]", []string{`deployments[0].cookie_domain: the first host "192.0.2.1" is an IP address`}},
		{"cookie domain on an IPv6 host", "x.yaml", "deployments: [{hosts: ['[2001:DB8::1]'], cookie_domain: '2001:db8::1'}]", []string{`deployments[0].cookie_domain: the first host "2001:db8::1" is an IP address`}},
		{"cookie domain on an IPv4 host with port", "x.yaml", "deployments: [{hosts: ['192.0.2.1:8080'], cookie_domain: example.com}]", []string{"deployments[0].hosts[0]:", "without port", `deployments[0].cookie_domain: the first host "192.0.2.1:8080" is an IP address`}},
		{"cookie domain on an IPv6 host with port", "x.yaml", "deployments: [{hosts: ['[::1]:8443'], cookie_domain: localhost}]", []string{"deployments[0].hosts[0]:", `deployments[0].cookie_domain: the first host "[::1]:8443" is an IP address`}},
		{"cookie domain an address of a name", "x.yaml", "deployments: [{hosts: [frontend.192.0.2.1]}]", []string{`deployments[0].cookie_domain: the default`, `"192.0.2.1" is an IP address`}},
		{"host twice, once with a trailing dot", "x.yaml", "deployments: [{hosts: [a.test]}, {hosts: [A.test.]}]", []string{`deployments[1].hosts[0]: host "a.test" already used by deployments[0].hosts[0]`}},
		{"host with scheme", "x.yaml", "deployments: [{hosts: [a.test, 'https://b.test']}]", []string{"deployments[0].hosts[1]:", "without scheme"}},
		{"host not a name", "x.yaml", "deployments: [{hosts: ['a b']}]", []string{"deployments[0].hosts[0]:", "not a host name"}},
		{"host used twice", "x.yaml", "deployments: [{hosts: [A.test]}, {hosts: [a.TEST]}]", []string{`deployments[1].hosts[0]: host "a.test" already used by deployments[0].hosts[0]`}},
		{"bad mode", "x.yaml", in("mode: dev,", "", ""), []string{`deployments[0].mode: expected production or staging, got "dev"`}},
		{"not a key", "x.yaml", in("private_key: nope,", "", ""), []string{"deployments[0].private_key: expected one PEM block"}},
		{"not a P-256 key", "x.yaml", in(fmt.Sprintf("private_key: %q,", ed25519Key), "", ""), []string{"deployments[0].private_key: expected an ECDSA P-256 key"}},

		{"id zero", "x.yaml", in("id: 0,", "", ""), []string{`deployments[0].id: expected a positive decimal integer below 2^63, got "0"`}},
		{"id negative", "x.yaml", in("", "id: -1,", ""), []string{"deployments[0].organizations[0].id: expected a positive"}},
		{"id leading zero", "x.yaml", in("", "", `id: "007"`), []string{w + ".id: expected a positive"}},
		{"id float", "x.yaml", in("", "", "id: 1.0"), []string{w + ".id: expected a positive"}},
		{"id hex", "x.yaml", in("", "", "id: 0x10"), []string{w + ".id: expected a positive"}},
		{"id too big", "x.yaml", in("", "", "id: 9223372036854775808"), []string{w + ".id: expected a positive"}},
		{"id a mapping", "x.yaml", in("", "", "id: {a: 1}"), []string{w + ".id: expected a positive decimal integer below 2^63, got a mapping"}},
		{"id used twice", "x.yaml", in("segments: [{id: 5, name: s, type: user}],", "", "id: '5'"), []string{w + ".id: id 5 already used by deployments[0].segments[0]"}},

		{"email missing", "x.yaml", "deployments: [{hosts: [a.test], users: [{first_name: A}]}]", []string{"deployments[0].users[0].email: required"}},
		{"email malformed", "x.yaml", "deployments: [{hosts: [a.test], users: [{email: nope}]}]", []string{`deployments[0].users[0].email: "nope" is not an e-mail address`}},
		{"email with name", "x.yaml", "deployments: [{hosts: [a.test], users: [{email: 'A <a@b.test>'}]}]", []string{`deployments[0].users[0].email:`}},
		{"email twice", "x.yaml", "deployments: [{hosts: [a.test], users: [{email: a@b.test}, {email: A@B.test}]}]", []string{`deployments[0].users[1].email: user "a@b.test" already defined at deployments[0].users[0].email`}},
		{"authenticator type missing", "x.yaml", "deployments: [{hosts: [a.test], users: [{email: a@b.test, authenticators: [{}]}]}]", []string{"deployments[0].users[0].authenticators[0].type: required"}},

		{"segment type", "x.yaml", in("segments: [{name: s, type: team}],", "", ""), []string{`deployments[0].segments[0].type: expected user, organization or workspace, got "team"`}},
		{"segment name twice", "x.yaml", in("segments: [{name: s, type: user}, {name: s, type: workspace}],", "", ""), []string{`deployments[0].segments[1].name: segment "s" already defined`}},
		{"unknown segment", "x.yaml", in("", "segments: [nope],", ""), []string{`deployments[0].organizations[0].segments[0]: unknown segment "nope"`}},
		{"segment of another deployment", "x.yaml", "deployments: [{hosts: [a.test], segments: [{id: 9, name: s, type: user}]}, {hosts: [b.test], organizations: [{name: O, segments: ['9']}]}]",
			[]string{`deployments[1].organizations[0].segments[0]: unknown segment "9"`}},

		{"organization name missing", "x.yaml", "deployments: [{hosts: [a.test], organizations: [{description: d}]}]", []string{"deployments[0].organizations[0].name: required"}},
		{"organization name twice", "x.yaml", "deployments: [{hosts: [a.test], organizations: [{name: O}, {name: O}]}]", []string{`deployments[0].organizations[1].name: organization "O" already defined`}},
		{"workspace name twice", "x.yaml", "deployments: [{hosts: [a.test], organizations: [{name: O, workspaces: [{name: W}, {name: W}]}]}]", []string{`deployments[0].organizations[0].workspaces[1].name: workspace "W" already defined`}},
		{"image url", "x.yaml", in("", "", "image_url: /img.png"), []string{w + `.image_url: "/img.png" is not an absolute http(s) URL`}},
		{"unknown auto-assigned workspace", "x.yaml", in("", "auto_assigned_workspace: Nope,", ""), []string{`deployments[0].organizations[0].auto_assigned_workspace: unknown workspace "Nope"`}},

		{"metadata a list", "x.yaml", in("", "public_metadata: [1],", ""), []string{"deployments[0].organizations[0].public_metadata: expected a mapping (a JSON object), got a list"}},
		{"metadata a string", "x.yaml", in("", "", "private_metadata: x"), []string{w + `.private_metadata: expected a mapping (a JSON object), got "x"`}},
		{"metadata nan", "x.yaml", in("", "", "public_metadata: {a: [.nan]}"), []string{w + ".public_metadata: line 2: .nan has no JSON representation"}},
		{"metadata key twice", "x.yaml", in("", "", "public_metadata: {a: 1, a: 2}"), []string{w + `.public_metadata: line 2: key "a" given twice`}},
		{"metadata complex key", "x.yaml", in("", "", "public_metadata: {[a]: 1}"), []string{w + ".public_metadata: line 2: keys must be plain strings"}},

		{"role name missing", "x.yaml", in("", "", "roles: [{permissions: [workspace:read]}]"), []string{w + ".roles[0].name: required"}},
		{"role name twice", "x.yaml", in("", "roles: [{name: R}, {name: R}],", ""), []string{`deployments[0].organizations[0].roles[1].name: role "R" already defined`}},
		{"permission with space", "x.yaml", in("", "", "roles: [{name: R, permissions: ['workspace: admin']}]"), []string{w + `.roles[0].permissions[0]: "workspace: admin" is not a permission name`}},

		{"member user missing", "x.yaml", in("", "", "members: [{roles: []}]"), []string{w + ".members[0].user: required"}},
		{"unknown user", "x.yaml", in("", "", "members: [{user: x@y}]"), []string{w + `.members[0].user: unknown user "x@y"`}},
		{"unknown user id", "x.yaml", in("", "", "members: [{user: 77}]"), []string{w + `.members[0].user: unknown user "77"`}},
		{"user of another deployment", "x.yaml", "deployments: [{hosts: [a.test], users: [{email: a@b.test}]}, {hosts: [b.test], organizations: [{name: O, members: [{user: a@b.test}]}]}]",
			[]string{`deployments[1].organizations[0].members[0].user: unknown user "a@b.test"`}},
		{"member twice", "x.yaml", in("", "", "members: [{user: a@b.test}, {user: A@b.test}]"), []string{w + `.members[1].user: user "A@b.test" is already a member`}},
		{"unknown workspace role", "x.yaml", in("", "roles: [{name: R}],", "members: [{user: a@b.test, roles: [R]}]"), []string{w + `.members[0].roles[0]: unknown workspace role "R"`}},
		{"unknown organization role", "x.yaml", in("", "members: [{user: a@b.test, roles: [R]}],", ""), []string{`deployments[0].organizations[0].members[0].roles[0]: unknown organization role "R"`}},
		{"role given twice", "x.yaml", in("", "", "roles: [{id: 7, name: R}], members: [{user: a@b.test, roles: [R, '7']}]"), []string{w + `.members[0].roles[1]: workspace role "7" given twice`}},

		{"timestamp not rfc 3339", "x.yaml", in("created_at: 2024-01-01,", "", ""), []string{`deployments[0].created_at: "2024-01-01" is not an RFC 3339 timestamp`}},
		{"updated before created", "x.yaml", in("", "", "created_at: 2024-01-02T00:00:00Z, updated_at: 2024-01-01T00:00:00Z"), []string{w + ".updated_at: is before created_at"}},
		{"deleted before created", "x.yaml", in("", "", "created_at: 2024-01-02T00:00:00Z, deleted_at: 2024-01-01T00:00:00Z"), []string{w + ".deleted_at: is before created_at"}},

		{"every error reported", "x.yaml", in("mode: dev,", "segments: [nope],", "members: [{user: x@y}]"), []string{
			"deployments[0].mode:", "deployments[0].organizations[0].segments[0]:", w + ".members[0].user:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds, err := Parse(tt.file, []byte(tt.data), now)
			if err == nil {
				t.Fatalf("no error; data set %+v", ds)
			}
			if ds != nil {
				t.Error("a data set returned with an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%v\ndoes not mention %q", err, w)
				}
			}
		})
	}
}

func TestParseCapsErrors(t *testing.T) {
	var users []string
	for i := range 25 {
		users = append(users, fmt.Sprintf("{email: bad%d}", i))
	}
	_, err := Parse("x.yaml", []byte("deployments: [{hosts: [a.test], users: ["+strings.Join(users, ", ")+"]}]"), now)
	if err == nil {
		t.Fatal("no error")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != maxErrors+1 || lines[maxErrors] != "… and 5 more errors" {
		t.Errorf("error has %d lines, ending %q", len(lines), lines[len(lines)-1])
	}
}

func TestCookieDomain(t *testing.T) {
	for _, tc := range []struct{ hosts, given, want string }{
		{"[api.example.com]", "", "api.example.com"},
		{"[frontend.example.com, api.example.com]", "", "example.com"},
		{"[api.example.com]", "Example.COM", "example.com"},
		{"[api.example.com]", ".example.com", "example.com"},
		{"[example.com]", "example.com", "example.com"},
		{"[localhost]", "", "localhost"},
		{"[localhost]", "localhost", "localhost"},
		{"[127.0.0.1]", "", "127.0.0.1"},
		{"['[::1]']", "", "::1"},
		{"[api.example.co.uk]", "example.co.uk", "example.co.uk"},
		{"[app.example.github.io]", "example.github.io", "example.github.io"},
		{"[frontend.example.github.io]", "", "example.github.io"},
		// Trailing dots go, from the host and the domain alike.
		{"[API.Example.com.]", "example.com.", "example.com"},
		{"[api.example.com.]", "", "api.example.com"},
	} {
		data := "deployments: [{hosts: " + tc.hosts + "}]"
		if tc.given != "" {
			data = "deployments: [{hosts: " + tc.hosts + ", cookie_domain: '" + tc.given + "'}]"
		}
		ds, err := Parse("x.yaml", []byte(data), now)
		if err != nil {
			t.Fatalf("%s: %v", data, err)
		}
		if got := ds.Deployments[0].CookieDomain; got != tc.want {
			t.Errorf("%s: cookie domain %q, want %q", data, got, tc.want)
		}
	}
}
