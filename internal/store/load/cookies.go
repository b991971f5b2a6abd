package load

import (
	"context"
	"fmt"
	"net/netip"
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

// coveredHostSQL finds a host of another deployment under a cookie domain:
// the domain itself, or a name ending in "." and the domain.
const coveredHostSQL = `SELECT host, deployment_id FROM deployment_hosts
WHERE deployment_id <> $1 AND (host = $2 OR host LIKE $3 ESCAPE '\')
ORDER BY host LIMIT 1`

// likeSuffix is the LIKE pattern of names ending in "." + d.
func likeSuffix(d string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%." + r.Replace(d)
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

// checkCookieDomains refuses the first deployment of ds whose session
// cookie would reach another deployment's host, or whose host another
// deployment's cookie would reach.
func checkCookieDomains(ctx context.Context, tx Tx, ds *domain.Dataset) error {
	paths := make(map[int64]string, len(ds.Deployments))
	for _, x := range ds.Deployments {
		paths[x.ID] = x.Path
	}
	name := func(id int64) string {
		if p, ok := paths[id]; ok {
			return p
		}
		return fmt.Sprintf("deployment %d (loaded earlier)", id)
	}
	for _, x := range ds.Deployments {
		if !domainCookie(x.CookieDomain) {
			continue
		}
		var host string
		var other int64
		found := false
		err := tx.Query(ctx, coveredHostSQL, []any{x.ID, x.CookieDomain, likeSuffix(x.CookieDomain)},
			[]any{&host, &other}, func() error { found = true; return nil })
		if err != nil {
			return fmt.Errorf("%s.cookie_domain: checking other deployments' hosts: %w", x.Path, err)
		}
		if found {
			return fmt.Errorf("%s.cookie_domain: %q covers %q, a host of %s: browsers would send this deployment's session cookie there, and two session cookies fail: %w",
				x.Path, x.CookieDomain, host, name(other), domain.ErrConflict)
		}
	}
	for _, x := range ds.Deployments {
		for i, h := range x.Hosts {
			ps := parents(h)
			if len(ps) == 0 {
				continue
			}
			args := []any{x.ID}
			marks := make([]string, len(ps))
			for j, p := range ps {
				args = append(args, p)
				marks[j] = fmt.Sprintf("$%d", j+2)
			}
			var other int64
			var d string
			found := false
			err := tx.Query(ctx, `SELECT id, cookie_domain FROM deployments WHERE id <> $1 AND cookie_domain IN (`+
				strings.Join(marks, ", ")+`) ORDER BY id LIMIT 1`, args,
				[]any{&other, &d}, func() error { found = true; return nil })
			if err != nil {
				return fmt.Errorf("%s.hosts[%d]: checking other deployments' cookie_domain: %w", x.Path, i, err)
			}
			if found {
				return fmt.Errorf("%s.hosts[%d]: %q is under the cookie_domain %q of %s: browsers would send that deployment's session cookie here, and two session cookies fail: %w",
					x.Path, i, h, d, name(other), domain.ErrConflict)
			}
		}
	}
	return nil
}
