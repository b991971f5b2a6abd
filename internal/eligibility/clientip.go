package eligibility

import (
	"fmt"
	"net/netip"
	"strings"
)

// ClientIP returns the address the request comes from. It is the socket peer
// (remoteAddr, "host:port" as in http.Request.RemoteAddr) unless the peer is a
// trusted proxy; then it is the right-most X-Forwarded-For address that is not
// a trusted proxy, since every address left of the first untrusted hop could
// have been written by the client itself. Without trusted proxies
// X-Forwarded-For is ignored.
//
// It fails closed: when the peer cannot be parsed, when a trusted peer's chain
// is all trusted proxies (or absent), or when an entry is malformed before an
// untrusted one is found, the result is the zero Addr, which no allow-list
// admits. Falling back to a proxy's own address would let an allow-list that
// covers the proxies' network (an internal 10/8) admit anybody.
func ClientIP(remoteAddr string, xff []string, trusted []netip.Prefix) netip.Addr {
	peer := parseHost(remoteAddr)
	if !peer.IsValid() || !isTrusted(peer, trusted) {
		return peer
	}
	// Walk the chain right to left: the values in reverse order, and each
	// value's comma-separated entries in reverse order, as if joined.
	for i := len(xff) - 1; i >= 0; i-- {
		v := xff[i]
		for {
			entry := v
			comma := strings.LastIndexByte(v, ',')
			if comma >= 0 {
				entry, v = v[comma+1:], v[:comma]
			}
			a := parseHost(strings.TrimSpace(entry))
			if !a.IsValid() {
				return netip.Addr{}
			}
			if !isTrusted(a, trusted) {
				return a
			}
			if comma < 0 {
				break
			}
		}
	}
	return netip.Addr{}
}

// parseHost accepts an address, optionally with a port ("1.2.3.4:80",
// "[::1]:80"), and returns it normalized; the zero Addr when it is neither.
func parseHost(s string) netip.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return normalize(ap.Addr())
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return normalize(a)
	}
	if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil {
			return normalize(a)
		}
	}
	return netip.Addr{}
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ParseTrustedProxies parses trusted proxy addresses and CIDR ranges (as given
// in configuration); blank entries are skipped.
func ParseTrustedProxies(list []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(list))
	for i, raw := range list {
		s := strings.TrimSpace(raw)
		if s == "" {
			continue
		}
		if strings.IndexByte(s, '/') >= 0 {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return nil, fmt.Errorf("trusted proxy %d %q: not a CIDR range: %w", i+1, raw, err)
			}
			out = append(out, normalizePrefix(p).Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %d %q: not an IP address or CIDR range", i+1, raw)
		}
		a = normalize(a)
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}
