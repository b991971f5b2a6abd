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
	"slices"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"github.com/wachtbench/memberships/gen"
	"github.com/wachtbench/memberships/internal/answer"
	"github.com/wachtbench/memberships/internal/auth"
	"github.com/wachtbench/memberships/internal/cache"
	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/internal/revalidate"
	"github.com/wachtbench/memberships/internal/service"
	"github.com/wachtbench/memberships/internal/store/fragment"
	"github.com/wachtbench/memberships/internal/tracing"
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
	// CacheTTL is how long deployments (by host) and active sessions are
	// remembered (internal/cache): the longest a revocation, a sign-out or
	// a deployment change may go unnoticed by this instance. 0: no cache.
	CacheTTL time.Duration
	// MaxInFlight caps the API requests answered at once; beyond it a request
	// is refused at once with 503. 0: no cap.
	MaxInFlight int
	// FailuresPerMinute is each client address's budget of failed requests
	// (bad or missing sessions, unknown hosts), in bursts of as many; beyond
	// it, 429. 0: no limit.
	FailuresPerMinute int
	// SessionRequestsPerMinute is each session's budget of requests, in
	// bursts of as many; beyond it, 429. 0: no limit.
	SessionRequestsPerMinute int
	// ValidateResponses checks the answers of deployments of each mode
	// against the contract before they leave (ParseResponseValidation); a
	// mode left out is not checked.
	ValidateResponses map[domain.Mode]ResponseValidation
	// Fragments, when set, is the store's fragment cache, whose hits and
	// misses /metrics reports (each fragment keeps its encoding).
	Fragments *fragment.Cache
	// AnswerBytes bounds the answers kept whole, their bytes in all: an
	// unchanged answer is then sent again without reading it. 0:
	// DefaultAnswerBytes; negative: none kept.
	AnswerBytes int
	// Registry receives the server's metrics and is what /metrics serves;
	// when nil, a new one that also has the Go and process collectors.
	Registry *prometheus.Registry
	// MetricsElsewhere leaves /metrics out of the handler: Registry is
	// served on a listener of its own (MetricsHandler), not on every
	// customer's domain.
	MetricsElsewhere bool
	// TracerProvider, when set, receives a span for every request, with
	// its authentication, refresh and store calls as children (tracing.go),
	// and log lines of a request carry its trace_id and span_id. Nil:
	// tracing off, nothing started. The stores' statement spans are the
	// store's own option (store.Options.TracerProvider).
	TracerProvider trace.TracerProvider
}

// New returns the HTTP handler of the API over store.
func New(cfg Config, store domain.Store) (http.Handler, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	log = slog.New(tracing.LogHandler(log.Handler()))
	sp := newSpans(cfg.TracerProvider)
	reg := cfg.Registry
	if reg == nil {
		reg = NewRegistry()
	}
	var replica func() domain.ReplicaState
	if store.Replica().Configured {
		replica = store.Replica
	}
	enc := answer.New()
	feed := revalidate.New(answersKept, answerBytes(cfg.AnswerBytes))
	m, err := newMetrics(reg, cfg.Fragments, enc, feed, replica)
	if err != nil {
		return nil, fmt.Errorf("registering metrics: %w", err)
	}
	// The cache sits outside the instrumentation: store metrics time the
	// database calls actually made.
	store = cache.Store(instrumentedStore{Store: store, m: m, spans: sp}, cfg.CacheTTL, cfg.Now)
	spec, err := gen.GetSwagger()
	if err != nil {
		return nil, fmt.Errorf("loading embedded contract: %w", err)
	}
	ct, err := newContract(spec, store, auth.NewAuthenticator(store, cfg.Now), !cfg.SkipValidation, cfg.TrustedProxies)
	if err != nil {
		return nil, fmt.Errorf("building contract validator: %w", err)
	}
	ct.spans = sp

	lim, err := newLimits(cfg, m, reg)
	if err != nil {
		return nil, fmt.Errorf("registering metrics: %w", err)
	}
	lim.known, lim.issued = ct.auth.Known, ct.auth.Issued
	if c, ok := store.(interface {
		CachedDeployment(string) (domain.Deployment, bool)
	}); ok {
		lim.cached = c.CachedDeployment
	}

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Logger.SetOutput(io.Discard)
	e.HTTPErrorHandler = renderError(log)
	if sp.tracer != nil {
		e.Use(sp.traceRequests)
	}
	e.Use(withRequestID, accessLog(log), m.instrument, recoverPanics(log), withTimeout(cfg.HandlerTimeout))
	var gatherer prometheus.Gatherer = reg
	if cfg.MetricsElsewhere {
		gatherer = nil
	}
	if err := registerOps(e, store, gatherer, log); err != nil {
		return nil, err
	}

	rc := &responseCheck{ct: ct, modes: cfg.ValidateResponses, violations: m.violations, log: log}

	// Only the contract's operations pass through the validator.
	api := &adapter{svc: service.New(store), enc: enc, feed: feed, revalidated: m.revalidated, answered: m.answered}
	perOperation := map[string][]echo.MiddlewareFunc{}
	cr := &cors{}
	for path, item := range spec.Paths.Map() {
		var methods []string
		for method, op := range item.Operations() {
			perOperation[op.OperationID] = []echo.MiddlewareFunc{lim.shed, lim.failureBudget, ct.resolve, cr.middleware, ct.middleware, lim.sessionBudget, rc.middleware}
			methods = append(methods, method)
		}
		slices.Sort(methods)
		e.OPTIONS(path, cr.preflight(methods...), lim.shed, lim.failureBudget, ct.resolve) // Echo runs no route middleware for an unrouted OPTIONS
	}
	gen.RegisterHandlersWithOptions(e, gen.NewStrictHandler(api, nil), gen.RegisterHandlersOptions{OperationMiddlewares: perOperation})
	return e, nil
}
