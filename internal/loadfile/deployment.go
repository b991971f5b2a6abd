package loadfile

// Deployments: hosts, browser origins, the signing key.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/net/publicsuffix"

	"github.com/wachtbench/memberships/internal/auth"
	"github.com/wachtbench/memberships/internal/domain"
)

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
	switch {
	case len(rec.Hosts) > 0:
		var err error
		if rec.CookieDomain, err = cookieDomain(in.CookieDomain, rec.Hosts[0]); err != nil {
			b.errs.add(path+".cookie_domain", "%v", err)
		}
	case len(in.Hosts) > 0 && strings.TrimSpace(in.CookieDomain) != "" && isAddress(in.Hosts[0]):
		// An address with a port: the host is refused, and so is the domain.
		b.errs.add(path+".cookie_domain", "%v", errAddressCookie(in.Hosts[0]))
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

// normalizeHost checks a deployment host: a DNS name or an IP address, as the
// Host header names it without port; lower-cased, without a trailing dot
// (the server drops it from the Host header too).
func normalizeHost(h string) (string, error) {
	h = strings.ToLower(strings.TrimSpace(h))
	if len(h) > 1 && strings.HasSuffix(h, ".") && !strings.HasSuffix(h, "..") {
		h = h[:len(h)-1]
	}
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
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' ||
			strings.TrimLeft(label, "abcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			return "", fmt.Errorf("%q is not a host name or IP address", h)
		}
	}
	return h, nil
}

// cookieDomain is the session cookie's Domain: as given, else upstream's
// default, the primary host without a leading "frontend.". The primary host
// must domain-match it, or browsers would refuse the cookie it sets. A
// domain that browsers would share between sites is refused, given or
// defaulted: a public suffix (co.uk, github.io: the Public Suffix List), or
// a top-level name other than the host itself. An address takes no domain:
// its cookie is always the address's own. Whether the domain reaches
// another deployment's host is the store's check (store/load), which sees
// every deployment.
func cookieDomain(given, primary string) (string, error) {
	if given == "" {
		d := strings.TrimPrefix(primary, "frontend.")
		if err := sharedDomain(d, primary); err != nil {
			return "", fmt.Errorf("the default (the first host without \"frontend.\") %v; set cookie_domain", err)
		}
		return d, nil
	}
	if isAddress(primary) {
		return "", errAddressCookie(primary)
	}
	d, err := normalizeHost(strings.TrimPrefix(strings.TrimSpace(given), "."))
	if err != nil {
		return "", err
	}
	if d != primary && !strings.HasSuffix(primary, "."+d) {
		return "", fmt.Errorf("%q does not cover the primary host %q (it must be that host or a parent domain of it)", d, primary)
	}
	return d, sharedDomain(d, primary)
}

// sharedDomain refuses a cookie domain d for the primary host that browsers
// would share between sites, or refuse.
func sharedDomain(d, primary string) error {
	switch {
	case isAddress(d):
		if d == primary {
			return nil // the address's own cookie
		}
		return fmt.Errorf("%q is an IP address: browsers refuse it as the domain of another host", d)
	case !strings.Contains(d, "."):
		if d == primary {
			return nil // a single-label host: browsers keep its cookie to it
		}
		return fmt.Errorf("%q is a top-level domain: browsers refuse cookies for it", d)
	}
	if ps, _ := publicsuffix.PublicSuffix(d); ps == d {
		return fmt.Errorf("%q is a public suffix (Public Suffix List): a cookie for it would go to every site under it", d)
	}
	return nil
}

// isAddress reports whether a host, as given, is an IP address, with or
// without brackets, zone or port.
func isAddress(h string) bool {
	h = strings.TrimSpace(h)
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	_, err := netip.ParseAddr(h)
	return err == nil
}

func errAddressCookie(host string) error {
	return fmt.Errorf("the first host %q is an IP address, whose cookie is its own: leave cookie_domain out", strings.TrimSpace(host))
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

// keyPair returns the PKCS#8 and PKIX PEM of the deployment's ES256 key,
// the given one (PKCS#8, or SEC 1 "EC PRIVATE KEY") checked to be P-256, or
// none: parsing is pure, and the store generates a missing key when it
// stores the deployment (store/load.WithKeys).
func keyPair(given string) (private, public []byte, err error) {
	if strings.TrimSpace(given) == "" {
		return nil, nil, nil
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
