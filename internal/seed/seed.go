// Package seed generates synthetic data sets of a chosen size for one
// deployment: organizations with workspaces, roles and segments, then users
// with their organization and workspace memberships. It feeds
// `memberships seed` and benchmarks.
//
// Generation is deterministic for a Config (the random choices follow Seed)
// except for ids, which are fresh snowflakes so that seeding twice into one
// database cannot collide.
//
// It imports domain, auth and ids; never a store.
package seed

import (
	"context"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"time"

	"github.com/wachtbench/memberships/internal/auth"
	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/internal/ids"
)

// Config is the shape of a data set.
type Config struct {
	Host                      string      // the deployment's host
	Mode                      domain.Mode // production or staging
	Organizations             int
	WorkspacesPerOrganization int
	Segments                  int
	RolesPerWorkspace         int
	Users                     int
	MembershipsPerUser        int // workspace memberships, capped by the workspaces there are
	RolesPerMembership        int // capped by RolesPerWorkspace
	ChunkUsers                int // users per chunk (one transaction each when loaded)
	Seed                      uint64
	Now                       time.Time // timestamps fall in the year before; time.Now when zero
}

// Default is a small data set: 1,000 users in 10 organizations of 10
// workspaces.
func Default() Config {
	return Config{
		Host: "seed.localhost", Mode: domain.ModeProduction,
		Organizations: 10, WorkspacesPerOrganization: 10, Segments: 6, RolesPerWorkspace: 3,
		Users: 1000, MembershipsPerUser: 5, RolesPerMembership: 1, ChunkUsers: 1000, Seed: 1,
	}
}

// Validate names the first setting that cannot make a data set.
func (c Config) Validate() error {
	switch {
	case c.Host == "":
		return fmt.Errorf("host: empty")
	case !c.Mode.Valid():
		return fmt.Errorf("mode: %q is not production or staging", c.Mode)
	case c.Organizations < 1:
		return fmt.Errorf("organizations: %d, need at least 1", c.Organizations)
	case c.WorkspacesPerOrganization < 1:
		return fmt.Errorf("workspaces: %d per organization, need at least 1", c.WorkspacesPerOrganization)
	case c.Segments < 0:
		return fmt.Errorf("segments: %d is negative", c.Segments)
	case c.RolesPerWorkspace < 1:
		return fmt.Errorf("roles: %d per workspace, need at least 1", c.RolesPerWorkspace)
	case c.Users < 0:
		return fmt.Errorf("users: %d is negative", c.Users)
	case c.MembershipsPerUser < 0:
		return fmt.Errorf("memberships: %d per user is negative", c.MembershipsPerUser)
	case c.RolesPerMembership < 0:
		return fmt.Errorf("roles per membership: %d is negative", c.RolesPerMembership)
	case c.ChunkUsers < 1:
		return fmt.Errorf("chunk: %d users per chunk, need at least 1", c.ChunkUsers)
	}
	return nil
}

// Email is the address of the i-th generated user (from 0), for minting
// tokens: `memberships token --host HOST --user EMAIL`.
func Email(c Config, i int) string { return fmt.Sprintf("user%d@%s", i, c.Host) }

// Generate makes the data set and hands it to emit in chunks: first the
// deployment with its segments, organizations, workspaces and roles, then
// the users with their memberships, ChunkUsers at a time. A chunk refers only
// to itself and earlier chunks, so loading them in order works; users is how
// many users the chunks so far hold. Generate stops at the first error of
// emit or ctx. The next chunk is made while emit takes the one before.
func Generate(ctx context.Context, c Config, emit func(ds *domain.Dataset, users int) error) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if c.Now.IsZero() {
		c.Now = time.Now()
	}
	g := &generator{c: c, rnd: mrand.New(mrand.NewPCG(c.Seed, c.Seed^0x9e3779b97f4a7c15))}
	base, err := g.base()
	if err != nil {
		return err
	}
	if err := emit(base, 0); err != nil {
		return err
	}
	type chunk struct {
		ds    *domain.Dataset
		users int
	}
	ctx, cancel := context.WithCancel(ctx)
	chunks := make(chan chunk, 1)
	defer func() { // when emit fails: stop the generating goroutine, wait for it
		cancel()
		for range chunks {
		}
	}()
	go func() {
		defer close(chunks)
		for from := 0; from < c.Users; from += c.ChunkUsers {
			to := min(from+c.ChunkUsers, c.Users)
			select {
			case chunks <- chunk{g.users(from, to), to}:
			case <-ctx.Done():
				return
			}
		}
	}()
	for ch := range chunks {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := emit(ch.ds, ch.users); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// workspace is what user chunks need to know of a generated workspace.
type workspace struct {
	id, org int64
	roles   []int64 // roles[0] is the admin role
}

type generator struct {
	c          Config
	rnd        *mrand.Rand
	deployment int64
	workspaces []workspace
	orgRoles   map[int64][2]int64 // organization → {admin, member}
}

// times is a creation time in the year before Now, at whole seconds.
func (g *generator) times() domain.Times {
	t := g.c.Now.Add(-time.Duration(g.rnd.Int64N(int64(365 * 24 * time.Hour)))).Truncate(time.Second).UTC()
	return domain.Times{CreatedAt: t, UpdatedAt: t}
}

func metadata(v map[string]any) json.RawMessage {
	b, _ := json.Marshal(v) // maps of plain values always marshal
	return b
}

func (g *generator) base() (*domain.Dataset, error) {
	c := g.c
	private, public, err := auth.GenerateKey()
	if err != nil {
		return nil, err
	}
	g.deployment = ids.New()
	ds := &domain.Dataset{Deployments: []domain.DeploymentRecord{{
		Path: "deployment", ID: g.deployment, Hosts: []string{c.Host}, Mode: c.Mode,
		IPAllowlistPerWorkspaceEnabled: true, EnforceMFAPerWorkspaceEnabled: true,
		AllowedOrigins: []string{}, PrivateKeyPEM: private, PublicKeyPEM: public,
		Times: domain.Times{CreatedAt: c.Now.Add(-366 * 24 * time.Hour).Truncate(time.Second).UTC()},
	}}}
	ds.Deployments[0].UpdatedAt = ds.Deployments[0].CreatedAt

	types := []domain.SegmentType{domain.SegmentUser, domain.SegmentOrganization, domain.SegmentWorkspace}
	segments := make([]int64, c.Segments)
	for i := range segments {
		segments[i] = ids.New()
		ds.Segments = append(ds.Segments, domain.SegmentRecord{
			Path: fmt.Sprintf("segments[%d]", i), ID: segments[i], DeploymentID: g.deployment,
			Name: fmt.Sprintf("segment-%d", i), Type: types[i%len(types)], Times: g.times(),
		})
	}
	pick := func(i int) []int64 {
		if len(segments) == 0 {
			return nil
		}
		return []int64{segments[i%len(segments)]}
	}

	g.orgRoles = map[int64][2]int64{}
	for o := range c.Organizations {
		org := ids.New()
		path := fmt.Sprintf("organizations[%d]", o)
		ds.Organizations = append(ds.Organizations, domain.OrganizationRecord{
			Path: path, ID: org, DeploymentID: g.deployment, Name: fmt.Sprintf("Organization %d", o),
			Description:    "Generated by memberships seed.",
			PublicMetadata: metadata(map[string]any{"seed": true, "index": o}), PrivateMetadata: metadata(map[string]any{}),
			EnforceMFA: o%5 == 0, SegmentIDs: pick(o), Times: g.times(),
		})
		admin, member := ids.New(), ids.New()
		g.orgRoles[org] = [2]int64{admin, member}
		ds.OrganizationRoles = append(ds.OrganizationRoles,
			domain.RoleRecord{Path: path + ".roles[0]", ID: admin, DeploymentID: g.deployment, ScopeID: org,
				Name: "Admin", Permissions: []string{"organization:admin"}, Times: g.times()},
			domain.RoleRecord{Path: path + ".roles[1]", ID: member, DeploymentID: g.deployment, ScopeID: org,
				Name: "Member", Permissions: []string{"organization:read"}, Times: g.times()})

		for w := range c.WorkspacesPerOrganization {
			n := len(g.workspaces)
			ws := workspace{id: ids.New(), org: org}
			wpath := fmt.Sprintf("%s.workspaces[%d]", path, w)
			rec := domain.WorkspaceRecord{
				Path: wpath, ID: ws.id, DeploymentID: g.deployment, OrganizationID: org,
				Name: fmt.Sprintf("Workspace %d.%d", o, w), Description: "Generated by memberships seed.",
				PublicMetadata: metadata(map[string]any{"seed": true, "index": n}), PrivateMetadata: metadata(map[string]any{}),
				// Every eligibility rule occurs: MFA on every third workspace,
				// an IP allow-list on every fourth.
				Enforce2FA: n%3 == 0, SegmentIDs: pick(n), Times: g.times(),
			}
			if n%4 == 0 {
				rec.EnableIPRestriction = true
				rec.WhitelistedIPs = []string{"10.0.0.0/8", "192.0.2.1"}
			}
			ds.Workspaces = append(ds.Workspaces, rec)
			for r := range c.RolesPerWorkspace {
				role := domain.RoleRecord{Path: fmt.Sprintf("%s.roles[%d]", wpath, r), ID: ids.New(), DeploymentID: g.deployment,
					ScopeID: ws.id, Name: fmt.Sprintf("Role %d", r), Permissions: []string{"workspace:read"}, Times: g.times()}
				if r == 0 {
					role.Name, role.Permissions = "Admin", []string{"workspace:admin"}
				}
				ws.roles = append(ws.roles, role.ID)
				ds.WorkspaceRoles = append(ds.WorkspaceRoles, role)
			}
			g.workspaces = append(g.workspaces, ws)
		}
	}
	return ds, nil
}

// users generates users [from, to) with their memberships.
func (g *generator) users(from, to int) *domain.Dataset {
	c := g.c
	ds := &domain.Dataset{}
	perUser := min(c.MembershipsPerUser, len(g.workspaces))
	for i := from; i < to; i++ {
		user := ids.New()
		path := fmt.Sprintf("users[%d]", i)
		ds.Users = append(ds.Users, domain.UserRecord{
			Path: path, ID: user, DeploymentID: g.deployment, Email: Email(c, i),
			FirstName: "User", LastName: fmt.Sprint(i), BackupCodesGenerated: i%6 == 1, Times: g.times(),
		})
		if i%3 == 0 {
			ds.Authenticators = append(ds.Authenticators, domain.AuthenticatorRecord{
				Path: path + ".authenticators[0]", ID: ids.New(), UserID: user, Type: "totp", Times: g.times()})
		}
		orgMembership := map[int64]int64{}
		for k, w := range g.sample(perUser) {
			ws := g.workspaces[w]
			om, ok := orgMembership[ws.org]
			if !ok {
				om = ids.New()
				orgMembership[ws.org] = om
				role := g.orgRoles[ws.org][1]
				if g.rnd.IntN(20) == 0 {
					role = g.orgRoles[ws.org][0]
				}
				ds.OrganizationMemberships = append(ds.OrganizationMemberships, domain.OrganizationMembershipRecord{
					Path: fmt.Sprintf("%s.organization_memberships[%d]", path, len(orgMembership)-1), ID: om,
					OrganizationID: ws.org, UserID: user, RoleIDs: []int64{role}, Times: g.times(),
				})
			}
			ds.WorkspaceMemberships = append(ds.WorkspaceMemberships, domain.WorkspaceMembershipRecord{
				Path: fmt.Sprintf("%s.workspace_memberships[%d]", path, k), ID: ids.New(),
				WorkspaceID: ws.id, OrganizationID: ws.org, OrganizationMembershipID: om, UserID: user,
				PublicMetadata: metadata(map[string]any{"seed": true}), RoleIDs: g.roles(ws), Times: g.times(),
			})
		}
	}
	return ds
}

// sample picks n distinct workspace indexes.
func (g *generator) sample(n int) []int {
	seen := make(map[int]bool, n)
	out := make([]int, 0, n)
	for len(out) < n {
		if w := g.rnd.IntN(len(g.workspaces)); !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

// roles picks a membership's distinct workspace roles: the admin role (which
// lifts every restriction) only one time in twenty, so restrictions show.
func (g *generator) roles(ws workspace) []int64 {
	n := min(g.c.RolesPerMembership, len(ws.roles))
	out := make([]int64, 0, n)
	order := g.rnd.Perm(len(ws.roles))
	for _, r := range order {
		if len(out) == n {
			break
		}
		if r == 0 && g.rnd.IntN(20) != 0 && len(ws.roles)-1 >= n {
			continue
		}
		out = append(out, ws.roles[r])
	}
	return out
}
