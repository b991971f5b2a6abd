package eligibility

import (
	"net/netip"
	"strings"
	"testing"
)

func TestClientIP(t *testing.T) {
	proxies, err := ParseTrustedProxies([]string{"10.0.0.0/8", "::1", " 192.168.1.1 "})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		remote  string
		xff     []string
		trusted []netip.Prefix
		want    string // "" is the zero Addr
	}{
		{"peer only", "203.0.113.7:5555", nil, nil, "203.0.113.7"},
		{"xff ignored without trusted proxies", "203.0.113.7:5555", []string{"1.2.3.4"}, nil, "203.0.113.7"},
		{"spoofed xff from an untrusted peer", "203.0.113.7:5555", []string{"1.2.3.4"}, proxies, "203.0.113.7"},
		{"ipv6 peer", "[2001:db8::1]:1234", nil, nil, "2001:db8::1"},
		{"ipv6 loopback peer untrusted", "[::1]:1234", []string{"1.2.3.4"}, nil, "::1"},
		{"ipv6 loopback peer trusted", "[::1]:1234", []string{"1.2.3.4"}, proxies, "1.2.3.4"},
		{"mapped peer", "[::ffff:127.0.0.1]:80", nil, nil, "127.0.0.1"},
		{"peer without port", "127.0.0.1", nil, nil, "127.0.0.1"},
		{"bad peer", "not-an-address:80", nil, proxies, ""},
		{"empty peer", "", nil, nil, ""},

		{"one hop", "10.0.0.1:80", []string{"198.51.100.9"}, proxies, "198.51.100.9"},
		{"client-written entries skipped", "10.0.0.1:80", []string{"6.6.6.6, 198.51.100.9"}, proxies, "198.51.100.9"},
		{"multi-hop", "10.0.0.1:80", []string{"6.6.6.6, 198.51.100.9, 10.1.1.1", "192.168.1.1"}, proxies, "198.51.100.9"},
		{"values joined", "10.0.0.1:80", []string{"6.6.6.6", "198.51.100.9,10.2.2.2"}, proxies, "198.51.100.9"},
		// Fails closed: a chain that never reaches an untrusted address is
		// unknown, never the proxy's own address.
		{"all trusted: unknown", "10.0.0.1:80", []string{"10.9.9.9, 10.1.1.1"}, proxies, ""},
		{"no header from a proxy: unknown", "10.0.0.1:80", nil, proxies, ""},
		{"empty header: unknown", "10.0.0.1:80", []string{""}, proxies, ""},
		{"garbage right-most: unknown", "10.0.0.1:80", []string{"1.2.3.4, garbage"}, proxies, ""},
		{"garbage before an untrusted hop: unknown", "10.0.0.1:80", []string{"1.2.3.4, garbage, 10.3.3.3"}, proxies, ""},
		{"garbage left of the client is never read", "10.0.0.1:80", []string{"garbage, 1.2.3.4, 10.3.3.3"}, proxies, "1.2.3.4"},
		{"ipv6 entries", "[::1]:1234", []string{"2001:db8::7, ::1"}, proxies, "2001:db8::7"},
		{"entries with ports", "10.0.0.1:80", []string{"[2001:db8::7]:443, 10.1.1.1:80"}, proxies, "2001:db8::7"},
		{"mapped entry", "10.0.0.1:80", []string{"::ffff:198.51.100.9"}, proxies, "198.51.100.9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ClientIP(tt.remote, tt.xff, tt.trusted)
			if tt.want == "" {
				if got.IsValid() {
					t.Errorf("ClientIP = %v, want invalid", got)
				}
				return
			}
			if got != netip.MustParseAddr(tt.want) {
				t.Errorf("ClientIP = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseTrustedProxies(t *testing.T) {
	got, err := ParseTrustedProxies([]string{"10.1.2.3/8", "", "::1", "::ffff:172.16.0.0/108", "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.0/8", "::1/128", "172.16.0.0/12", "192.0.2.1/32"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("entry %d = %v, want %v", i, got[i], want[i])
		}
	}
	for _, bad := range []string{"10.0.0.0/33", "proxy.local", "1.2.3"} {
		_, err := ParseTrustedProxies([]string{"10.0.0.1", bad})
		if err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("ParseTrustedProxies(%q) error = %v, want one naming the entry", bad, err)
		}
	}
}
