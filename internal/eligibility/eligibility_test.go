package eligibility

import (
	"net/netip"
	"testing"

	"github.com/wachtbench/memberships/internal/domain"
)

var bothOn = domain.Deployment{IPAllowlistPerWorkspaceEnabled: true, EnforceMFAPerWorkspaceEnabled: true}

// restricted is a membership whose workspace enforces MFA and an allow-list
// that does not contain 127.0.0.1; edit copies of it in the table.
func restricted(ips ...string) domain.Membership {
	if ips == nil {
		ips = []string{"10.0.0.1"}
	}
	return domain.Membership{Workspace: &domain.Workspace{
		Enforce2FA:          true,
		EnableIPRestriction: true,
		WhitelistedIPs:      ips,
	}}
}

func TestEvaluate(t *testing.T) {
	v4 := netip.MustParseAddr("127.0.0.1")
	v6 := netip.MustParseAddr("2001:db8::42")
	with := func(m domain.Membership, f func(*domain.Membership)) domain.Membership { f(&m); return m }
	ipOnly := func(ips ...string) domain.Membership {
		return with(restricted(ips...), func(m *domain.Membership) { m.Workspace.Enforce2FA = false })
	}

	tests := []struct {
		name string
		d    domain.Deployment
		m    domain.Membership
		ip   netip.Addr
		mfa  bool
		want Restriction
	}{
		{"both fail", bothOn, restricted(), v4, false, IPAndMFARequired},
		{"ip fails, user has mfa", bothOn, restricted(), v4, true, IPNotAllowed},
		{"mfa fails, ip allowed", bothOn, restricted("127.0.0.1"), v4, false, MFARequired},
		{"nothing fails", bothOn, restricted("127.0.0.1"), v4, true, None},
		{"plain workspace", bothOn, domain.Membership{Workspace: &domain.Workspace{}}, v4, false, None},

		{"admin by workspace role", bothOn, with(restricted(), func(m *domain.Membership) {
			m.Roles = []*domain.Role{{Name: "viewer"}, {Name: "admin", Permissions: []string{"workspace:read", "workspace:admin"}}}
		}), v4, false, None},
		{"admin by organization role", bothOn, with(restricted(), func(m *domain.Membership) {
			m.OrganizationPermissions = []string{"organization:read", "organization:admin"}
		}), v4, false, None},
		{"organization:admin on a workspace role is no bypass", bothOn, with(restricted(), func(m *domain.Membership) {
			m.Roles = []*domain.Role{{Permissions: []string{"organization:admin"}}}
		}), v4, false, IPAndMFARequired},
		{"workspace:admin on the organization is no bypass", bothOn, with(restricted(), func(m *domain.Membership) {
			m.OrganizationPermissions = []string{"workspace:admin"}
		}), v4, false, IPAndMFARequired},

		{"deployment ip switch off", domain.Deployment{EnforceMFAPerWorkspaceEnabled: true}, restricted(), v4, false, MFARequired},
		{"deployment mfa switch off", domain.Deployment{IPAllowlistPerWorkspaceEnabled: true}, restricted(), v4, false, IPNotAllowed},
		{"deployment switches off", domain.Deployment{}, restricted(), v4, false, None},
		{"workspace ip switch off", bothOn, with(restricted(), func(m *domain.Membership) { m.Workspace.EnableIPRestriction = false }), v4, false, MFARequired},
		{"workspace mfa switch off", bothOn, with(restricted(), func(m *domain.Membership) { m.Workspace.Enforce2FA = false }), v4, false, IPNotAllowed},
		{"empty allow-list", bothOn, ipOnly([]string{}...), v4, false, None},
		{"organization settings ignored", bothOn, with(domain.Membership{Workspace: &domain.Workspace{}}, func(m *domain.Membership) {
			m.Organization = &domain.Organization{EnforceMFA: true, EnableIPRestriction: true, WhitelistedIPs: []string{"10.0.0.1"}}
		}), v4, false, None},

		{"exact v4", bothOn, ipOnly("10.0.0.1", "127.0.0.1"), v4, false, None},
		{"exact v4 with spaces", bothOn, ipOnly("  127.0.0.1 "), v4, false, None},
		{"cidr v4", bothOn, ipOnly("127.0.0.0/8"), v4, false, None},
		{"cidr v4 with spaces", bothOn, ipOnly(" 127.0.0.0/8\t"), v4, false, None},
		{"cidr v4 with host bits", bothOn, ipOnly("127.1.2.3/8"), v4, false, None},
		{"cidr v4 outside", bothOn, ipOnly("10.0.0.0/8"), v4, false, IPNotAllowed},
		{"mapped client", bothOn, ipOnly("127.0.0.1"), netip.MustParseAddr("::ffff:127.0.0.1"), false, None},
		{"mapped entry", bothOn, ipOnly("::ffff:127.0.0.1"), v4, false, None},
		{"mapped cidr entry", bothOn, ipOnly("::ffff:127.0.0.0/104"), v4, false, None},
		{"exact v6 other spelling", bothOn, ipOnly("2001:DB8:0:0:0:0:0:42"), v6, false, None},
		{"cidr v6", bothOn, ipOnly("2001:db8::/32"), v6, false, None},
		{"cidr v6 outside", bothOn, ipOnly("2001:db9::/32"), v6, false, IPNotAllowed},
		{"v4 range never holds v6", bothOn, ipOnly("0.0.0.0/0"), v6, false, IPNotAllowed},
		{"zones ignored", bothOn, ipOnly("fe80::1%eth0"), netip.MustParseAddr("fe80::1%eth1"), false, None},
		{"v6 loopback", bothOn, ipOnly("::1"), netip.IPv6Loopback(), false, None},
		{"malformed entries allow nothing", bothOn, ipOnly("", "localhost", "127.0.0.1/33", "127.0.0.0/x", "127.0.0", "*"), v4, false, IPNotAllowed},
		{"malformed entry beside a good one", bothOn, ipOnly("nonsense", "127.0.0.1"), v4, false, None},
		{"invalid client ip", bothOn, ipOnly("0.0.0.0/0", "::/0"), netip.Addr{}, false, IPNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := tt.m
			got := Evaluate(tt.d, &m, tt.ip, tt.mfa)
			if got != tt.want {
				t.Errorf("Evaluate = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMessage(t *testing.T) {
	tests := map[Restriction]string{
		None:             "",
		IPNotAllowed:     "You must connect from an allowed IP address to access this workspace.",
		MFARequired:      "You must set up Multi-Factor Authentication to access this workspace.",
		IPAndMFARequired: "You must connect from an allowed IP address and set up Multi-Factor Authentication to access this workspace.",
	}
	for r, want := range tests {
		if got := r.Message(); got != want {
			t.Errorf("%s.Message() = %q, want %q", r, got, want)
		}
	}
}

func BenchmarkEvaluate(b *testing.B) {
	m := restricted(" 10.0.0.1", "192.168.0.0/16", "2001:db8::/32", "bogus", "127.0.0.0/8")
	ip := netip.MustParseAddr("127.0.0.1")
	b.ReportAllocs()
	for b.Loop() {
		if Evaluate(bothOn, &m, ip, false) != MFARequired {
			b.Fatal("unexpected result")
		}
	}
}

func TestEvaluateDoesNotAllocate(t *testing.T) {
	m := restricted(" 10.0.0.1", "192.168.0.0/16", "2001:db8::1", "fe80::1%eth0", "bogus", "127.0.0.0/8")
	ip := netip.MustParseAddr("127.0.0.1")
	if n := testing.AllocsPerRun(100, func() { Evaluate(bothOn, &m, ip, false) }); n != 0 {
		t.Errorf("Evaluate allocates %v times per call", n)
	}
}
