package loader

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math"
	"net/mail"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/wachtbench/memberships/internal/auth"
	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/internal/ids"
)

// builder flattens a decoded file into a Dataset, collecting every error.
type builder struct {
	now   time.Time
	ds    domain.Dataset
	errs  errList
	ids   map[int64]string // every id, explicit or generated → path of its entry
	hosts map[string]string
}

// deploymentScope is what references inside one deployment resolve against.
type deploymentScope struct {
	id            int64
	users         *index
	segments      *index
	organizations *index // names only, for duplicates
}

func build(f *file, now time.Time) (*domain.Dataset, error) {
	b := &builder{now: now.UTC(), ids: map[int64]string{}, hosts: map[string]string{}}
	if len(f.Deployments) == 0 {
		b.errs.add("deployments", "at least one deployment is required")
	}
	for i := range f.Deployments {
		b.deployment(fmt.Sprintf("deployments[%d]", i), &f.Deployments[i])
	}
	if err := b.errs.err(); err != nil {
		return nil, err
	}
	return &b.ds, nil
}

func (b *builder) deployment(path string, in *deploymentIn) {
	rec := domain.DeploymentRecord{
		Path:                           path,
		ID:                             b.id(path, in.ID),
		Mode:                           domain.ModeProduction,
		IPAllowlistPerWorkspaceEnabled: in.IPAllowlistPerWorkspaceEnabled,
		EnforceMFAPerWorkspaceEnabled:  in.EnforceMFAPerWorkspaceEnabled,
		Times:                          b.times(path, in.entity),
	}
	if in.Mode != "" {
		rec.Mode = domain.Mode(in.Mode)
		if !rec.Mode.Valid() {
			b.errs.add(path+".mode", "expected production or staging, got %q", in.Mode)
		}
	}
	if len(in.Hosts) == 0 {
		b.errs.add(path+".hosts", "at least one host is required")
	}
	for i, h := range in.Hosts {
		p := fmt.Sprintf("%s.hosts[%d]", path, i)
		host, err := normalizeHost(h)
		if err != nil {
			b.errs.add(p, "%v", err)
			continue
		}
		if prev, dup := b.hosts[host]; dup {
			b.errs.add(p, "host %q already used by %s", host, prev)
			continue
		}
		b.hosts[host] = p
		rec.Hosts = append(rec.Hosts, host)
	}
	if len(rec.Hosts) > 0 {
		var err error
		if rec.CookieDomain, err = cookieDomain(in.CookieDomain, rec.Hosts[0]); err != nil {
			b.errs.add(path+".cookie_domain", "%v", err)
		}
	}
	rec.AllowedOrigins = []string{}
	for i, o := range in.AllowedOrigins {
		origin, err := normalizeOrigin(o)
		if err != nil {
			b.errs.add(fmt.Sprintf("%s.allowed_origins[%d]", path, i), "%v", err)
			continue
		}
		if slices.Contains(rec.AllowedOrigins, origin) {
			b.errs.add(fmt.Sprintf("%s.allowed_origins[%d]", path, i), "origin %q listed twice", origin)
			continue
		}
		rec.AllowedOrigins = append(rec.AllowedOrigins, origin)
	}
	var err error
	rec.PrivateKeyPEM, rec.PublicKeyPEM, err = keyPair(in.PrivateKey)
	if err != nil {
		b.errs.add(path+".private_key", "%v", err)
	}
	b.ds.Deployments = append(b.ds.Deployments, rec)

	d := &deploymentScope{id: rec.ID, users: newIndex(), segments: newIndex(), organizations: newIndex()}
	for i := range in.Segments {
		b.segment(fmt.Sprintf("%s.segments[%d]", path, i), d, &in.Segments[i])
	}
	for i := range in.Users {
		b.user(fmt.Sprintf("%s.users[%d]", path, i), d, &in.Users[i])
	}
	for i := range in.Organizations {
		b.organization(fmt.Sprintf("%s.organizations[%d]", path, i), d, &in.Organizations[i])
	}
}

func (b *builder) segment(path string, d *deploymentScope, in *segmentIn) {
	rec := domain.SegmentRecord{
		Path:         path,
		ID:           b.id(path, in.ID),
		DeploymentID: d.id,
		Name:         b.required(path+".name", in.Name),
		Type:         domain.SegmentType(in.Type),
		Times:        b.times(path, in.entity),
	}
	if !rec.Type.Valid() {
		b.errs.add(path+".type", "expected user, organization or workspace, got %q", in.Type)
	}
	b.addName(path+".name", d.segments, rec.ID, rec.Name, "segment")
	b.ds.Segments = append(b.ds.Segments, rec)
}

func (b *builder) user(path string, d *deploymentScope, in *userIn) {
	rec := domain.UserRecord{
		Path:                 path,
		ID:                   b.id(path, in.ID),
		DeploymentID:         d.id,
		Email:                strings.TrimSpace(in.Email),
		FirstName:            in.FirstName,
		LastName:             in.LastName,
		BackupCodesGenerated: in.BackupCodesGenerated,
		Times:                b.times(path, in.entity),
	}
	if rec.Email == "" {
		b.errs.add(path+".email", "required")
	} else if a, err := mail.ParseAddress(rec.Email); err != nil || a.Name != "" || a.Address != rec.Email {
		b.errs.add(path+".email", "%q is not an e-mail address", in.Email)
	} else {
		// E-mails are unique per deployment regardless of case.
		b.addName(path+".email", d.users, rec.ID, strings.ToLower(rec.Email), "user")
	}
	b.ds.Users = append(b.ds.Users, rec)
	for i, a := range in.Authenticators {
		p := fmt.Sprintf("%s.authenticators[%d]", path, i)
		b.ds.Authenticators = append(b.ds.Authenticators, domain.AuthenticatorRecord{
			Path:   p,
			ID:     b.id(p, a.ID),
			UserID: rec.ID,
			Type:   b.required(p+".type", strings.TrimSpace(a.Type)),
			Times:  b.times(p, a.entity),
		})
	}
}

// groupOut is what organizations and workspaces share, checked.
type groupOut struct {
	name, imageURL, description string
	public, private             json.RawMessage
	ips                         []string
	segments                    []int64
}

func (b *builder) group(path string, d *deploymentScope, in *group) groupOut {
	g := groupOut{
		name:        b.required(path+".name", in.Name),
		imageURL:    strings.TrimSpace(in.ImageURL),
		description: in.Description,
		public:      b.metadata(path+".public_metadata", in.PublicMetadata),
		private:     b.metadata(path+".private_metadata", in.PrivateMetadata),
		// Kept as written, malformed entries included: they simply allow nothing.
		ips:      append([]string{}, in.WhitelistedIPs...),
		segments: b.refs(path+".segments", in.Segments, d.segments, "segment"),
	}
	if g.imageURL != "" {
		if u, err := url.Parse(g.imageURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			b.errs.add(path+".image_url", "%q is not an absolute http(s) URL", in.ImageURL)
		}
	}
	return g
}

func (b *builder) organization(path string, d *deploymentScope, in *organizationIn) {
	id := b.id(path, in.ID)
	g := b.group(path, d, &in.group)
	b.addName(path+".name", d.organizations, id, g.name, "organization")
	at := len(b.ds.Organizations)
	b.ds.Organizations = append(b.ds.Organizations, domain.OrganizationRecord{
		Path:                path,
		ID:                  id,
		DeploymentID:        d.id,
		Name:                g.name,
		ImageURL:            g.imageURL,
		Description:         g.description,
		PublicMetadata:      g.public,
		PrivateMetadata:     g.private,
		EnforceMFA:          in.EnforceMFA,
		EnableIPRestriction: in.EnableIPRestriction,
		WhitelistedIPs:      g.ips,
		SegmentIDs:          g.segments,
		Times:               b.times(path, in.entity),
	})

	roles := b.roles(path, d, id, in.Roles, &b.ds.OrganizationRoles)
	members := map[int64]int64{} // user id → organization membership id
	for i, m := range in.Members {
		p := fmt.Sprintf("%s.members[%d]", path, i)
		rec := domain.OrganizationMembershipRecord{
			Path:           p,
			ID:             b.id(p, m.ID),
			OrganizationID: id,
			RoleIDs:        b.refs(p+".roles", m.Roles, roles, "organization role"),
			Times:          b.times(p, m.entity),
		}
		var ok bool
		if rec.UserID, ok = b.member(p, d, m.User, members, rec.ID); ok {
			b.ds.OrganizationMemberships = append(b.ds.OrganizationMemberships, rec)
		}
	}

	workspaces := newIndex()
	for i := range in.Workspaces {
		b.workspace(fmt.Sprintf("%s.workspaces[%d]", path, i), d, id, workspaces, members, &in.Workspaces[i])
	}
	if ref := strings.TrimSpace(in.AutoAssignedWorkspace); ref != "" {
		if ws, ok := workspaces.find(ref); ok {
			b.ds.Organizations[at].AutoAssignedWorkspaceID = &ws
		} else {
			b.errs.add(path+".auto_assigned_workspace", "unknown workspace %q in this organization", ref)
		}
	}
}

func (b *builder) workspace(path string, d *deploymentScope, orgID int64, names *index, orgMembers map[int64]int64, in *workspaceIn) {
	id := b.id(path, in.ID)
	g := b.group(path, d, &in.group)
	b.addName(path+".name", names, id, g.name, "workspace")
	b.ds.Workspaces = append(b.ds.Workspaces, domain.WorkspaceRecord{
		Path:                path,
		ID:                  id,
		DeploymentID:        d.id,
		OrganizationID:      orgID,
		Name:                g.name,
		ImageURL:            g.imageURL,
		Description:         g.description,
		PublicMetadata:      g.public,
		PrivateMetadata:     g.private,
		Enforce2FA:          in.Enforce2FA,
		EnableIPRestriction: in.EnableIPRestriction,
		WhitelistedIPs:      g.ips,
		SegmentIDs:          g.segments,
		Times:               b.times(path, in.entity),
	})

	roles := b.roles(path, d, id, in.Roles, &b.ds.WorkspaceRoles)
	members := map[int64]int64{}
	for i, m := range in.Members {
		p := fmt.Sprintf("%s.members[%d]", path, i)
		rec := domain.WorkspaceMembershipRecord{
			Path:           p,
			ID:             b.id(p, m.ID),
			WorkspaceID:    id,
			OrganizationID: orgID,
			PublicMetadata: b.metadata(p+".public_metadata", m.PublicMetadata),
			RoleIDs:        b.refs(p+".roles", m.Roles, roles, "workspace role"),
			Times:          b.times(p, m.entity),
		}
		var ok bool
		if rec.UserID, ok = b.member(p, d, m.User, members, rec.ID); !ok {
			continue
		}
		om, ok := orgMembers[rec.UserID]
		if !ok {
			// Every workspace member belongs to the organization; a missing
			// organization membership is created without roles, live even
			// when this workspace membership is deleted.
			om = b.generatedID(p)
			orgMembers[rec.UserID] = om
			b.ds.OrganizationMemberships = append(b.ds.OrganizationMemberships, domain.OrganizationMembershipRecord{
				Path:           p,
				ID:             om,
				OrganizationID: orgID,
				UserID:         rec.UserID,
				RoleIDs:        []int64{},
				Times:          domain.Times{CreatedAt: rec.CreatedAt, UpdatedAt: rec.CreatedAt},
			})
		}
		rec.OrganizationMembershipID = om
		b.ds.WorkspaceMemberships = append(b.ds.WorkspaceMemberships, rec)
	}
}

// member resolves the user of a membership and checks it is the user's only
// membership of that organization or workspace.
func (b *builder) member(path string, d *deploymentScope, ref string, seen map[int64]int64, membershipID int64) (int64, bool) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		b.errs.add(path+".user", "required (an e-mail or user id)")
		return 0, false
	}
	user, ok := d.users.find(strings.ToLower(ref))
	if !ok {
		b.errs.add(path+".user", "unknown user %q", ref)
		return 0, false
	}
	if _, dup := seen[user]; dup {
		b.errs.add(path+".user", "user %q is already a member", ref)
		return 0, false
	}
	seen[user] = membershipID
	return user, true
}

func (b *builder) roles(path string, d *deploymentScope, scope int64, in []roleIn, out *[]domain.RoleRecord) *index {
	names := newIndex()
	for i, r := range in {
		p := fmt.Sprintf("%s.roles[%d]", path, i)
		rec := domain.RoleRecord{
			Path:         p,
			ID:           b.id(p, r.ID),
			DeploymentID: d.id,
			ScopeID:      scope,
			Name:         b.required(p+".name", r.Name),
			Permissions:  make([]string, 0, len(r.Permissions)),
			Times:        b.times(p, r.entity),
		}
		for j, perm := range r.Permissions {
			perm = strings.TrimSpace(perm)
			if perm == "" || strings.ContainsAny(perm, " \t") {
				b.errs.add(fmt.Sprintf("%s.permissions[%d]", p, j), "%q is not a permission name", r.Permissions[j])
				continue
			}
			rec.Permissions = append(rec.Permissions, perm)
		}
		b.addName(p+".name", names, rec.ID, rec.Name, "role")
		*out = append(*out, rec)
	}
	return names
}

// refs resolves a list of references (names or ids) against idx.
func (b *builder) refs(path string, refs []string, idx *index, kind string) []int64 {
	out := make([]int64, 0, len(refs))
	seen := map[int64]bool{}
	for i, ref := range refs {
		ref = strings.TrimSpace(ref)
		p := fmt.Sprintf("%s[%d]", path, i)
		id, ok := idx.find(ref)
		switch {
		case !ok:
			b.errs.add(p, "unknown %s %q", kind, ref)
		case seen[id]:
			b.errs.add(p, "%s %q given twice", kind, ref)
		default:
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

func (b *builder) addName(path string, idx *index, id int64, name, kind string) {
	if name == "" {
		return // reported as required
	}
	if prev := idx.add(id, name, path); prev != "" {
		b.errs.add(path, "%s %q already defined at %s", kind, name, prev)
	}
}

func (b *builder) required(path, v string) string {
	v = strings.TrimSpace(v)
	if v == "" {
		b.errs.add(path, "required")
	}
	return v
}

// id returns the entry's explicit id, or a fresh one when it has none.
// Ids are unique across the whole file, whatever the kind of entry.
func (b *builder) id(path string, raw rawNode) int64 {
	if !raw.set() {
		return b.generatedID(path)
	}
	n := resolve(raw.n)
	id, ok := parseID(n)
	if !ok {
		b.errs.add(path+".id", "expected a positive decimal integer below 2^63, got %s", describe(n))
		return b.generatedID(path)
	}
	if prev, dup := b.ids[id]; dup {
		b.errs.add(path+".id", "id %d already used by %s", id, prev)
		return id
	}
	b.ids[id] = path
	return id
}

func (b *builder) generatedID(path string) int64 {
	for {
		id := ids.New()
		if _, used := b.ids[id]; !used {
			b.ids[id] = path
			return id
		}
	}
}

func parseID(n *yaml.Node) (int64, bool) {
	if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!int" && n.ShortTag() != "!!str") {
		return 0, false
	}
	s := n.Value
	if s == "" || s[0] < '1' || s[0] > '9' || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil
}

// times reads an entry's timestamps. A missing created_at defaults to the
// earliest of now and the entry's other timestamps (so an entry given only a
// past deleted_at stays coherent), a missing updated_at to created_at.
func (b *builder) times(path string, e entity) domain.Times {
	created, hasCreated := b.timestamp(path+".created_at", e.CreatedAt)
	updated, hasUpdated := b.timestamp(path+".updated_at", e.UpdatedAt)
	deleted, hasDeleted := b.timestamp(path+".deleted_at", e.DeletedAt)
	if !hasCreated {
		created = b.now
		if hasUpdated && updated.Before(created) {
			created = updated
		}
		if hasDeleted && deleted.Before(created) {
			created = deleted
		}
	}
	if !hasUpdated {
		updated = created
	}
	t := domain.Times{CreatedAt: created, UpdatedAt: updated}
	if updated.Before(created) {
		b.errs.add(path+".updated_at", "is before created_at")
	}
	if hasDeleted {
		if deleted.Before(created) {
			b.errs.add(path+".deleted_at", "is before created_at")
		}
		t.DeletedAt = &deleted
	}
	return t
}

func (b *builder) timestamp(path, s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		b.errs.add(path, "%q is not an RFC 3339 timestamp such as 2024-01-31T09:00:00Z", s)
		return time.Time{}, false
	}
	return t.UTC(), true
}

// metadata turns a free-form mapping into a compact JSON object with sorted
// keys; absent or null is {}.
func (b *builder) metadata(path string, raw rawNode) json.RawMessage {
	if !raw.set() {
		return json.RawMessage("{}")
	}
	n := resolve(raw.n)
	if n.Kind != yaml.MappingNode {
		b.errs.add(path, "expected a mapping (a JSON object), got %s", describe(n))
		return json.RawMessage("{}")
	}
	v, err := jsonValue(n)
	if err != nil {
		b.errs.add(path, "%v", err)
		return json.RawMessage("{}")
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		b.errs.add(path, "%v", err)
		return json.RawMessage("{}")
	}
	return json.RawMessage(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

// jsonValue converts a YAML node to the value encoding/json writes. Numbers
// keep the spelling they were written with when it is valid JSON, so ids
// beyond 2^53 survive.
func jsonValue(n *yaml.Node) (any, error) {
	n = resolve(n)
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := resolve(n.Content[i])
			if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!merge" {
				return nil, fmt.Errorf("line %d: keys must be plain strings", k.Line)
			}
			if _, dup := m[k.Value]; dup {
				return nil, fmt.Errorf("line %d: key %q given twice", k.Line, k.Value)
			}
			v, err := jsonValue(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[k.Value] = v
		}
		return m, nil
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for _, e := range n.Content {
			v, err := jsonValue(e)
			if err != nil {
				return nil, err
			}
			s = append(s, v)
		}
		return s, nil
	}
	switch n.ShortTag() {
	case "!!null":
		return nil, nil
	case "!!bool", "!!int", "!!float":
		if n.ShortTag() != "!!bool" && json.Valid([]byte(n.Value)) {
			return json.Number(n.Value), nil
		}
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, fmt.Errorf("line %d: %v", n.Line, err)
		}
		if f, ok := v.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
			return nil, fmt.Errorf("line %d: %s has no JSON representation", n.Line, n.Value)
		}
		return v, nil
	default: // strings, and timestamps or binary kept as written
		return n.Value, nil
	}
}

func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// normalizeHost checks a deployment host: a DNS name or an IP address, as the
// Host header names it without port; lower-cased.
func normalizeHost(h string) (string, error) {
	h = strings.ToLower(strings.TrimSpace(h))
	switch {
	case h == "":
		return "", fmt.Errorf("empty host")
	case strings.Contains(h, "://"):
		return "", fmt.Errorf("%q: write the host name only, without scheme", h)
	}
	if a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")); err == nil && a.Zone() == "" {
		return a.String(), nil
	}
	if strings.Contains(h, ":") {
		return "", fmt.Errorf("%q: write the host name only, without port", h)
	}
	if len(h) > 253 {
		return "", fmt.Errorf("%q: host name too long", h)
	}
	for _, label := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' ||
			strings.TrimLeft(label, "abcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			return "", fmt.Errorf("%q is not a host name or IP address", h)
		}
	}
	return h, nil
}

// cookieDomain is the session cookie's Domain: as given, else upstream's
// default, the primary host without a leading "frontend.". The primary host
// must domain-match it, or browsers would refuse the cookie it sets.
func cookieDomain(given, primary string) (string, error) {
	if given == "" {
		return strings.TrimPrefix(primary, "frontend."), nil
	}
	d, err := normalizeHost(strings.TrimPrefix(strings.TrimSpace(given), "."))
	if err != nil {
		return "", err
	}
	switch {
	case d == primary:
	case !strings.HasSuffix(primary, "."+d):
		return "", fmt.Errorf("%q does not cover the primary host %q (it must be that host or a parent domain of it)", d, primary)
	case !strings.Contains(d, "."):
		return "", fmt.Errorf("%q is a top-level domain: browsers refuse cookies for it", d)
	}
	return d, nil
}

// normalizeOrigin accepts a browser origin, scheme://host[:port] with http or
// https and nothing after, and returns it lower-case as browsers send it.
func normalizeOrigin(o string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(o))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%q is not an origin like https://app.example.com[:port]", o)
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), nil
}

// keyPair returns the PKCS#8 and PKIX PEM of the deployment's ES256 key:
// the given one (PKCS#8, or SEC 1 "EC PRIVATE KEY") checked to be P-256, or
// a new one.
func keyPair(given string) (private, public []byte, err error) {
	if strings.TrimSpace(given) == "" {
		return auth.GenerateKey()
	}
	block, rest := pem.Decode([]byte(given))
	if block == nil || strings.TrimSpace(string(rest)) != "" {
		return nil, nil, fmt.Errorf("expected one PEM block")
	}
	var parsed any
	switch block.Type {
	case "PRIVATE KEY":
		parsed, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		parsed, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		return nil, nil, fmt.Errorf("expected a PRIVATE KEY PEM block, got %q", block.Type)
	}
	if err != nil {
		return nil, nil, err
	}
	k, ok := parsed.(*ecdsa.PrivateKey)
	if !ok || k.Curve != elliptic.P256() {
		return nil, nil, fmt.Errorf("expected an ECDSA P-256 key (ES256)")
	}
	return auth.EncodeKey(k)
}

// index finds entries by id or by name; a reference that is a known id
// wins over a name spelled like a number.
type index struct {
	ids   map[int64]bool
	names map[string]int64
	where map[string]string
}

func newIndex() *index {
	return &index{ids: map[int64]bool{}, names: map[string]int64{}, where: map[string]string{}}
}

// add records an entry and returns the path of an earlier one of that name.
func (x *index) add(id int64, name, path string) string {
	x.ids[id] = true
	if prev, dup := x.where[name]; dup {
		return prev
	}
	x.names[name], x.where[name] = id, path
	return ""
}

func (x *index) find(ref string) (int64, bool) {
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil && x.ids[id] {
		return id, true
	}
	id, ok := x.names[ref]
	return id, ok
}
