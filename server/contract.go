package server

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/labstack/echo/v4"

	"github.com/wachtbench/memberships/internal/auth"
	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/internal/eligibility"
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
