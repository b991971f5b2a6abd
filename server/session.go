package server

// The session: where a request's token is found (the cookie, or on staging
// the query parameter), how it is authenticated for the validator's
// security schemes, and how an expired one is refreshed and delivered back
// as cookies or a header.

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"

	"github.com/wachtbench/memberships/internal/auth"
	"github.com/wachtbench/memberships/internal/domain"
)

// The security schemes of openapi.yaml and where they read the token.
const (
	schemeSessionCookie   = "sessionCookie"
	schemeDevSessionQuery = "devSessionQuery"
	sessionCookie         = "__session"
	devSessionParam       = "__dev_session__"
	devSessionHeader      = "X-Development-Session"
)

// refresh rotates an expired token once the request has passed every check
// (authentication, parameters, body), so a request that fails them rotates
// nothing. Once the rotation is committed the new token goes on the
// response headers at once: whatever answer follows — the 200, an error
// envelope, a timeout's or a panic's 500 — delivers it.
func (c *contract) refresh(ec echo.Context, st *requestState) error {
	if st.expired == nil {
		return nil
	}
	ctx, span := c.spans.start(ec.Request().Context(), "refresh")
	tok, err := c.auth.Refresh(ctx, st.deployment, st.expired)
	if err != nil {
		err = authError(err)
		fail(span, errorType(err))
	}
	span.End()
	if err != nil {
		return err
	}
	st.caller, st.expired, st.refreshed = st.expired.Caller, nil, true
	h := ec.Response().Header()
	if st.deployment.Mode == domain.ModeStaging {
		h.Set(devSessionHeader, tok.Value)
		return nil
	}
	for _, ck := range sessionCookies(st.deployment, hostname(ec.Request().Host), tok) {
		h.Add("Set-Cookie", ck)
	}
	return nil
}

// sessionCookies are the Set-Cookie values that deliver tok on a production
// deployment. The session cookie always has the deployment's name, path and
// Domain, so a browser replaces it instead of holding two; it persists
// until the session can no longer be refreshed (Max-Age, Expires), so a
// browser restart keeps it. Before it goes an expiry of any host-only
// __session cookie on this host (one set before the deployment had a
// cookie_domain), which a browser would otherwise send beside the new one
// (two different tokens: 401). The expiry comes first: a client that keys
// cookies by name, path and domain alone then keeps the new one.
func sessionCookies(d domain.Deployment, host string, tok auth.Token) []string {
	set := &http.Cookie{Name: sessionCookie, Value: tok.Value, Path: "/", Domain: d.CookieDomain,
		MaxAge: max(1, int(tok.ValidFor/time.Second)), Expires: tok.ValidUntil,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode}
	if !domainMatches(host, d.CookieDomain) {
		// A host of the deployment outside its cookie domain (a second
		// domain): a browser would refuse Domain=, so the cookie is this
		// host's own, and there is no host-only cookie to replace.
		set.Domain = ""
		return []string{set.String()}
	}
	expire := &http.Cookie{Name: sessionCookie, Path: "/", MaxAge: -1, HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode}
	return []string{expire.String(), set.String()}
}

// domainMatches reports whether a browser on host accepts a cookie for
// domain (RFC 6265 §5.1.3).
func domainMatches(host, domain string) bool {
	return host == domain || strings.HasSuffix(host, "."+domain)
}

// authenticate implements both security schemes for the validator. The token
// source is chosen once — the cookie, else (staging only) the query
// parameter — and only the scheme it belongs to authenticates; the other
// answers errNotThisScheme, so the error reported is the meaningful one.
func (c *contract) authenticate(ctx context.Context, in *openapi3filter.AuthenticationInput) error {
	return c.authenticateRequest(ctx, in.RequestValidationInput.Request, stateFrom(ctx), in.SecuritySchemeName)
}

var errNotThisScheme = errors.New("token not sent through this scheme")

// authenticateRequest authenticates req through scheme ("" for whichever
// carries the token) and records the caller in st.
func (c *contract) authenticateRequest(ctx context.Context, req *http.Request, st *requestState, scheme string) error {
	token, from, err := sessionToken(req, st.deployment.Mode)
	if err != nil {
		return err
	}
	if from == "" {
		return errMissingSession
	}
	if scheme != "" && scheme != from {
		return errNotThisScheme
	}
	ctx, span := c.spans.start(ctx, "authenticate")
	if span.IsRecording() {
		span.SetAttributes(attrScheme.String(from)) // the security scheme of openapi.yaml
	}
	res, err := c.auth.Authenticate(ctx, st.deployment, token)
	if err != nil {
		err = authError(err)
		fail(span, errorType(err))
	} else if res.Expired {
		span.SetAttributes(attrExpired.Bool(true)) // refreshed once every check passed
	}
	span.End()
	if err != nil {
		return err
	}
	st.caller = res.Caller
	if res.Expired {
		st.expired = &res
	}
	return nil
}

// authError maps an authentication failure to its envelope.
func authError(err error) error {
	switch {
	case errors.Is(err, auth.ErrExpiredToken), errors.Is(err, auth.ErrNotYetValid):
		return errExpiredSession
	case errors.Is(err, auth.ErrInvalidToken):
		return errInvalidSession
	case errors.Is(err, auth.ErrInactiveSession):
		return errInactiveSession
	default:
		return internal(err)
	}
}

// sessionToken finds the session token and the scheme that carries it. Two
// session cookies are refused, equal or not: a browser sends two only when
// one was set for a parent domain, which another deployment may control.
// Two different query tokens are ambiguous, so invalid.
func sessionToken(req *http.Request, mode domain.Mode) (token, scheme string, err error) {
	var cookies []string
	for _, ck := range req.CookiesNamed(sessionCookie) {
		if ck.Value != "" {
			cookies = append(cookies, ck.Value)
		}
	}
	switch len(cookies) {
	case 0:
	case 1:
		return cookies[0], schemeSessionCookie, nil
	default:
		return "", schemeSessionCookie, errTwoSessionCookies
	}
	if mode == domain.ModeStaging {
		if token, err = single(req.URL.Query()[devSessionParam]); token != "" || err != nil {
			return token, schemeDevSessionQuery, err
		}
	}
	return "", "", nil
}

// single returns the one distinct non-empty value of vs.
func single(vs []string) (string, error) {
	one := ""
	for _, v := range vs {
		switch {
		case v == "" || v == one:
		case one == "":
			one = v
		default:
			return "", errInvalidSession
		}
	}
	return one, nil
}
