// Package server assembles the HTTP service: Echo, the contract validator with
// authentication, the generated strict handler over the service, and the one
// error renderer.
package server

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wachtbench/memberships/gen"
	"github.com/wachtbench/memberships/internal/auth"
	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/internal/service"
)

// Config is how the server behaves.
type Config struct {
	// TrustedProxies are peers whose X-Forwarded-For is believed. Empty:
	// the client address is always the socket peer.
	TrustedProxies []netip.Prefix
	// Logger receives access and error logs; discarded when nil.
	Logger *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// HandlerTimeout bounds the work on one request; 0 means none.
	HandlerTimeout time.Duration
	// SkipValidation switches off the contract validator (authentication
	// still runs). It exists only to measure the validator's cost.
	SkipValidation bool
}

// New returns the HTTP handler of the API over store.
func New(cfg Config, store domain.Store) (http.Handler, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	spec, err := gen.GetSwagger()
	if err != nil {
		return nil, fmt.Errorf("loading embedded contract: %w", err)
	}
	ct, err := newContract(spec, store, auth.NewAuthenticator(store, cfg.Now), !cfg.SkipValidation, cfg.TrustedProxies)
	if err != nil {
		return nil, fmt.Errorf("building contract validator: %w", err)
	}

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Logger.SetOutput(io.Discard)
	e.HTTPErrorHandler = renderError(log)
	e.Use(withRequestID, accessLog(log), recoverPanics(log), withTimeout(cfg.HandlerTimeout))

	// Only the contract's operations pass through the validator.
	api := &adapter{svc: service.New(store)}
	perOperation := map[string][]echo.MiddlewareFunc{}
	for _, item := range spec.Paths.Map() {
		for _, op := range item.Operations() {
			perOperation[op.OperationID] = []echo.MiddlewareFunc{ct.middleware}
		}
	}
	gen.RegisterHandlersWithOptions(e, gen.NewStrictHandler(api, nil), gen.RegisterHandlersOptions{OperationMiddlewares: perOperation})
	return e, nil
}
