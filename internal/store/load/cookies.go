package load

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/wachtbench/memberships/internal/domain"
)

// A deployment's session cookie, set for its cookie_domain, goes to every
// host under that domain; on another deployment's host it sits beside that
// deployment's own __session, and two of them always fail (401). So no
// deployment's cookie_domain may cover another deployment's host. The
// check runs inside the load's transaction, once the load's deployments
// and hosts are written, so it sees them and every deployment loaded
// before, in both directions: a new cookie_domain over any other host,
// and any other cookie_domain over a new host. Deleted deployments count:
// browsers still hold their cookies.

// domainCookie reports whether a stored cookie_domain d makes a cookie that
// reaches other hosts: not empty (the store's default, a host-only cookie),
// not an address, not a single label (a cookie for it is its host's own,
// as the loader allows it only on that very host).
func domainCookie(d string) bool {
	if !strings.Contains(d, ".") {
		return false
	}
	_, err := netip.ParseAddr(d)
	return err != nil
}

// parents are the names whose domain cookie would reach host: the host and
// each parent domain of it with at least two labels.
func parents(host string) []string {
	if _, err := netip.ParseAddr(host); err == nil {
		return nil
	}
	var out []string
	for d := host; strings.Contains(d, "."); d = d[strings.IndexByte(d, '.')+1:] {
		if domainCookie(d) {
			out = append(out, d)
		}
	}
	return out
}

// collision is a cookie domain over another deployment's host, one of the
// two a deployment of the load.
type collision struct {
	blamed int  // index in ds.Deployments of the deployment reported
	byHost bool // reported at its host (the domain's deployment is older)
	host   string
	domain string
	other  int64 // the other deployment
}

func (c collision) before(d collision) bool {
	if c.blamed != d.blamed {
		return c.blamed < d.blamed
	}
	if c.byHost != d.byHost {
		return !c.byHost
	}
	return c.host < d.host
}

// checkCookieDomains refuses the load when a cookie domain covers a host of
// another deployment and one of the two is in ds: the first deployment of
// ds in file order, at its cookie_domain, or at its host when the domain is
// another's loaded earlier. It reads every deployment's domain and every
// host once (tenants are few; chunks without deployments skip it) and
// matches each host's parent domains, so its cost is linear, not the
// product of domains and hosts.
func checkCookieDomains(ctx context.Context, tx Tx, ds *domain.Dataset) error {
	at := make(map[int64]int, len(ds.Deployments))
	for i, x := range ds.Deployments {
		at[x.ID] = i
	}
	domains := map[string][]int64{}
	var id int64
	var d string
	err := tx.Query(ctx, `SELECT id, cookie_domain FROM deployments WHERE cookie_domain LIKE '%.%'`, nil,
		[]any{&id, &d}, func() error {
			if domainCookie(d) {
				domains[d] = append(domains[d], id)
			}
			return nil
		})
	if err != nil {
		return fmt.Errorf("reading the deployments' cookie domains: %w", err)
	}
	var first *collision
	var host string
	var owner int64
	err = tx.Query(ctx, `SELECT host, deployment_id FROM deployment_hosts`, nil, []any{&host, &owner}, func() error {
		for _, p := range parents(host) {
			for _, by := range domains[p] {
				if by == owner {
					continue
				}
				c := collision{host: host, domain: p}
				if i, ok := at[by]; ok {
					c.blamed, c.other = i, owner
				} else if i, ok := at[owner]; ok {
					c.blamed, c.byHost, c.other = i, true, by
				} else {
					continue // both loaded before: not this load's doing
				}
				if first == nil || c.before(*first) {
					first = &c
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("reading the deployments' hosts: %w", err)
	}
	if first == nil {
		return nil
	}
	c := *first
	x := ds.Deployments[c.blamed]
	other := fmt.Sprintf("deployment %d (loaded earlier)", c.other)
	if i, ok := at[c.other]; ok {
		other = ds.Deployments[i].Path
	}
	if !c.byHost {
		return fmt.Errorf("%s.cookie_domain: %q covers %q, a host of %s: browsers would send this deployment's session cookie there, and two session cookies fail: %w",
			x.Path, c.domain, c.host, other, domain.ErrConflict)
	}
	return fmt.Errorf("%s.hosts[%d]: %q is under the cookie_domain %q of %s: browsers would send that deployment's session cookie here, and two session cookies fail: %w",
		x.Path, slices.Index(x.Hosts, c.host), c.host, c.domain, other, domain.ErrConflict)
}
