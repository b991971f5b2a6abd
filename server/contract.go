package server

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/labstack/echo/v4"

	"github.com/wachtbench/memberships/internal/auth"
	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/internal/eligibility"
)

// The security schemes of openapi.yaml and where they read the token.
const (
	schemeSessionCookie   = "sessionCookie"
	schemeDevSessionQuery = "devSessionQuery"
	sessionCookie         = "__session"
	devSessionParam       = "__dev_session__"
	devSessionHeader      = "X-Development-Session"
)

// requestState carries what the API middleware learns about a request to the
// handler: the deployment (from Host) and, once authenticated, the caller.
type requestState struct {
	deployment domain.Deployment
	clientIP   netip.Addr
	caller     domain.Caller
	// expired is the authentication of an expired token, kept until the
	// request has passed every check and is refreshed then (refresh).
	expired *auth.Result
	// refreshed says the request rotated its token: its answer carries the
	// new one, so it is never a 304.
	refreshed bool
}

type stateKey struct{}

func stateFrom(ctx context.Context) *requestState {
	st, _ := ctx.Value(stateKey{}).(*requestState)
	return st
}

// contract enforces openapi.yaml on the API routes: the router and filter
// options are built once; every request is resolved to its deployment, then
// validated (security schemes included) before it reaches the handler.
type contract struct {
	store    domain.Store
	auth     *auth.Authenticator
	router   routers.Router
	options  *openapi3filter.Options
	validate bool
	trusted  []netip.Prefix
	spans    spans
}

func newContract(spec *openapi3.T, store domain.Store, a *auth.Authenticator, validate bool, trusted []netip.Prefix) (*contract, error) {
	// The spec's server is https://{deployment_host}: the deployment, not the
	// route, depends on the host, so the validator must match any host.
	spec.Servers = nil
	router, err := gorillamux.NewRouter(spec)
	if err != nil {
		return nil, err
	}
	c := &contract{store: store, auth: a, router: router, validate: validate, trusted: trusted}
	c.options = &openapi3filter.Options{AuthenticationFunc: c.authenticate}
	return c, nil
}

// resolve finds the deployment answering on the request's Host (404 when
// none does) and starts the request's state, once for every API middleware.
func (c *contract) resolve(next echo.HandlerFunc) echo.HandlerFunc {
	return func(ec echo.Context) error {
		req := ec.Request()
		d, err := c.store.DeploymentByHost(req.Context(), hostname(req.Host))
		if errors.Is(err, domain.ErrNotFound) {
			return errDeploymentNotFound
		}
		if err != nil {
			return internal(err)
		}
		st := &requestState{
			deployment: d,
			clientIP:   eligibility.ClientIP(req.RemoteAddr, req.Header.Values("X-Forwarded-For"), c.trusted),
		}
		ec.SetRequest(req.WithContext(context.WithValue(req.Context(), stateKey{}, st)))
		return next(ec)
	}
}

// middleware validates a resolved request against the contract, security
// schemes included.
func (c *contract) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(ec echo.Context) error {
		req := ec.Request()
		ctx := req.Context()
		st := stateFrom(ctx)
		// The contract's operations take no body; refuse one before the
		// validator, which would read it all into memory.
		if req.ContentLength > 0 || len(req.TransferEncoding) > 0 {
			return badParameter("This request takes no body")
		}
		if c.validate {
			route, params, err := c.router.FindRoute(req)
			if err != nil {
				return errRouteNotFound
			}
			if err := singleValued(req, route.Operation); err != nil {
				return err
			}
			err = openapi3filter.ValidateRequest(ctx, &openapi3filter.RequestValidationInput{
				Request: req, PathParams: params, Route: route, Options: c.options,
			})
			if err != nil {
				return contractError(err)
			}
		} else if err := c.authenticateRequest(ctx, req, st, ""); err != nil {
			return err
		}
		if err := c.refresh(ec, st); err != nil {
			return err
		}
		return next(ec)
	}
}

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

// singleValued refuses a repeated query parameter the operation declares
// with a scalar schema: which value was meant is anybody's guess.
func singleValued(req *http.Request, op *openapi3.Operation) error {
	q := req.URL.Query()
	for _, p := range op.Parameters {
		v := p.Value
		if v.In == openapi3.ParameterInQuery && len(q[v.Name]) > 1 && (v.Schema == nil || v.Schema.Value == nil || !v.Schema.Value.Type.Is(openapi3.TypeArray)) {
			return badParameter("Query parameter \"" + v.Name + "\" is given more than once")
		}
	}
	return nil
}

// contractError maps a validator failure to its envelope.
func contractError(err error) error {
	var sre *openapi3filter.SecurityRequirementsError
	if errors.As(err, &sre) {
		// Report the first failure that is not "wrong scheme".
		for _, e := range sre.Errors {
			if !errors.Is(e, errNotThisScheme) {
				return e
			}
		}
		return errMissingSession
	}
	var re *openapi3filter.RequestError
	if errors.As(err, &re) && re.Parameter != nil {
		p := re.Parameter
		msg := "Invalid " + p.In + " parameter \"" + p.Name + "\""
		if p.Schema != nil && p.Schema.Value != nil && p.Schema.Value.Description != "" {
			msg += ": expected " + lowerFirst(p.Schema.Value.Description)
		}
		return badParameter(msg)
	}
	if errors.As(err, &re) {
		return badParameter("Invalid request: " + re.Reason)
	}
	return internal(err)
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// hostname is the Host header without port, lower-case.
func hostname(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
}
