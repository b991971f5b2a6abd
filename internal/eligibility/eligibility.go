// Package eligibility decides whether a caller may enter a workspace: the
// per-membership "eligibility restriction" of GET /me/workspace-memberships.
// Everything here is pure and allocation-free on the request path, because it
// runs once for every membership of every request.
//
// It imports only domain.
package eligibility

import (
	"net/netip"
	"strings"

	"github.com/wachtbench/memberships/internal/domain"
)

// Restriction is the eligibility_restriction.type of a membership.
type Restriction string

const (
	None             Restriction = "none"
	IPNotAllowed     Restriction = "ip_not_allowed"
	MFARequired      Restriction = "mfa_required"
	IPAndMFARequired Restriction = "ip_and_mfa_required"
)

// Message is the text the SDK shows as the tooltip of a greyed-out workspace.
func (r Restriction) Message() string {
	switch r {
	case IPNotAllowed:
		return "You must connect from an allowed IP address to access this workspace."
	case MFARequired:
		return "You must set up Multi-Factor Authentication to access this workspace."
	case IPAndMFARequired:
		return "You must connect from an allowed IP address and set up Multi-Factor Authentication to access this workspace."
	default:
		return ""
	}
}

// Permissions that bypass every restriction.
const (
	WorkspaceAdmin    = "workspace:admin"
	OrganizationAdmin = "organization:admin"
)

// Evaluate returns the restriction of membership m for a caller connecting from
// clientIP. Only the workspace's own switches count: organization-level IP and
// MFA settings are reported by the API but never restrict a workspace.
func Evaluate(d domain.Deployment, m *domain.Membership, clientIP netip.Addr, userHasMFA bool) Restriction {
	if IsAdmin(m) {
		return None
	}
	w := m.Workspace
	ipFails := d.IPAllowlistPerWorkspaceEnabled && w.EnableIPRestriction &&
		len(w.WhitelistedIPs) > 0 && !Allowed(w.WhitelistedIPs, clientIP)
	mfaFails := d.EnforceMFAPerWorkspaceEnabled && w.Enforce2FA && !userHasMFA
	switch {
	case ipFails && mfaFails:
		return IPAndMFARequired
	case ipFails:
		return IPNotAllowed
	case mfaFails:
		return MFARequired
	default:
		return None
	}
}

// IsAdmin reports whether the membership carries an admin permission, through
// a workspace role or a role of the organization membership behind it.
func IsAdmin(m *domain.Membership) bool {
	for _, r := range m.Roles {
		for _, p := range r.Permissions {
			if p == WorkspaceAdmin {
				return true
			}
		}
	}
	for _, p := range m.OrganizationPermissions {
		if p == OrganizationAdmin {
			return true
		}
	}
	return false
}

// Allowed reports whether any allow-list entry admits ip. An entry is an
// address (equal after trimming spaces) or a CIDR range containing ip;
// malformed entries admit nothing, and an invalid ip is admitted by nothing.
func Allowed(entries []string, ip netip.Addr) bool {
	ip = normalize(ip)
	if !ip.IsValid() {
		return false
	}
	for _, e := range entries {
		if entryAllows(strings.TrimSpace(e), ip) {
			return true
		}
	}
	return false
}

// entryAllows parses one entry in place: successful netip parsing does not
// allocate, so there is nothing to cache. Failed parsing allocates its error,
// hence the cheap character check first, and zones are cut off by hand
// because parsing them interns a string.
func entryAllows(e string, ip netip.Addr) bool {
	if !plausible(e) {
		return false
	}
	if strings.IndexByte(e, '/') >= 0 {
		p, err := netip.ParsePrefix(e)
		if err != nil {
			return false
		}
		return normalizePrefix(p).Contains(ip)
	}
	if i := strings.IndexByte(e, '%'); i >= 0 {
		e = e[:i]
	}
	a, err := netip.ParseAddr(e)
	if err != nil {
		return false
	}
	return a.Unmap() == ip
}

// plausible reports whether e is made only of characters an address or CIDR
// range can contain (a zone may follow '%').
func plausible(e string) bool {
	if e == "" {
		return false
	}
	for i := 0; i < len(e); i++ {
		switch c := e[i]; {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f', c >= 'A' && c <= 'F', c == '.', c == ':', c == '/':
		case c == '%':
			return i > 0
		default:
			return false
		}
	}
	return true
}

// normalize makes textual variants of one address compare equal: an
// IPv4-mapped IPv6 address becomes IPv4, and zones (local interface names,
// meaningless in an allow-list) are dropped.
func normalize(a netip.Addr) netip.Addr {
	return a.Unmap().WithZone("")
}

// normalizePrefix turns an IPv4-mapped IPv6 range (::ffff:10.0.0.0/104) into
// the IPv4 range it denotes, so it matches unmapped IPv4 clients.
func normalizePrefix(p netip.Prefix) netip.Prefix {
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p
}
