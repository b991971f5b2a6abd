package server

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/trace"

	"github.com/wachtbench/memberships/gen"
	"github.com/wachtbench/memberships/internal/answer"
	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/internal/revalidate"
	"github.com/wachtbench/memberships/internal/store/fragment"
)

// metrics are the Prometheus series the server exports on /metrics. Labels
// are bounded: routes are templates (unmatched requests share one label),
// reasons are the contract's error codes.
type metrics struct {
	requests     *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	rejections   *prometheus.CounterVec
	authFailures *prometheus.CounterVec
	store        *prometheus.HistogramVec
	limited      *prometheus.CounterVec
	shed         prometheus.Counter
	violations   *prometheus.CounterVec
	revalidated  *prometheus.CounterVec
	answered     *prometheus.CounterVec
}

// NewRegistry is the registry a server exports when Config gives none: the
// Go runtime and process collectors besides the server's own series.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// hitsAndMisses is a cache's counters as one counter with a result label.
func hitsAndMisses(name, help string, stats func() (hits, misses uint64)) []prometheus.Collector {
	var cs []prometheus.Collector
	for _, result := range []string{"hit", "miss"} {
		cs = append(cs, prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: name, Help: help, ConstLabels: prometheus.Labels{"result": result},
		}, func() float64 {
			hits, misses := stats()
			if result == "hit" {
				return float64(hits)
			}
			return float64(misses)
		}))
	}
	return cs
}

func newMetrics(reg prometheus.Registerer, frag *fragment.Cache, enc *answer.Encoder, feed *revalidate.Feed, replica func() domain.ReplicaState) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "memberships_http_requests_total",
			Help: "HTTP requests by route template, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "memberships_http_request_duration_seconds",
			Help:    "Time to answer HTTP requests, by route template and method.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14), // 0.5 ms … 4 s
		}, []string{"route", "method"}),
		rejections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "memberships_rejections_total",
			Help: "Requests refused with a 4xx error envelope, by the envelope's code (see openapi.yaml).",
		}, []string{"code"}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "memberships_auth_failures_total",
			Help: "Requests refused by authentication (401), by reason.",
		}, []string{"reason"}),
		store: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "memberships_store_duration_seconds",
			Help:    "Time of store calls on the request path, by operation and result (ok, not_found, error).",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16), // 0.1 ms … 3.3 s
		}, []string{"op", "result"}),
		limited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "memberships_rate_limited_total",
			Help: "Requests refused with 429, by the limit met: failures (per client address) or session.",
		}, []string{"limit"}),
		shed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "memberships_shed_total",
			Help: "API requests refused with 503 because --max-inflight were in flight.",
		}),
		violations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "memberships_contract_violations_total",
			Help: "Answers that broke openapi.yaml (--validate-responses), by mode: log (sent anyway) or enforce (replaced by a 500).",
		}, []string{"mode"}),
		revalidated: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "memberships_revalidations_total",
			Help: "Requests with If-None-Match, by how they were answered: unchanged (a 304 from the change feed, the answer not read), kept (a 200 of the answer last sent, current by the change feed: the ETag was an older one) or read (the answer read: it changed, was not kept, or the feed had a gap).",
		}, []string{"result"}),
		answered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "memberships_answers_total",
			Help: "Answers of GET /me/workspace-memberships by source: kept (a 304, or the 200 last sent again, the change feed naming nothing it shows) or read (from the database).",
		}, []string{"source"}),
	}
	cs := []prometheus.Collector{m.requests, m.latency, m.rejections, m.authFailures, m.store, m.limited, m.shed, m.violations, m.revalidated, m.answered}
	if frag != nil {
		cs = append(cs, hitsAndMisses("memberships_fragment_cache_lookups_total",
			"Lookups of workspaces, organizations and roles in the store's fragment cache, by result: a miss is read by a statement of its own.",
			frag.Stats)...)
	}
	cs = append(cs, hitsAndMisses("memberships_answer_encodings_total",
		"Workspaces, organizations and roles an answer showed, by whether their JSON was kept (hit) or encoded (miss); misses past the first answers mean --fragment-cache is too small.",
		enc.Stats)...)
	cs = append(cs, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "memberships_answers_kept_bytes",
		Help: "About what the answers kept whole weigh (--answer-cache bounds it), bodies and keys.",
	}, func() float64 { return float64(feed.SentBytes()) }))
	if replica != nil {
		cs = append(cs, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "memberships_replica_in_use",
			Help: "1 while the memberships read goes to the read replica; 0 while it goes to the primary (replica down, lagging past --db-read-max-lag, or lag not measured).",
		}, func() float64 {
			if replica().InUse {
				return 1
			}
			return 0
		}), prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "memberships_replica_lag_seconds",
			Help: "The most the read replica's data may be stale, as last measured (replay position against the primary's WAL); NaN when not measured.",
		}, func() float64 {
			if r := replica(); r.LagKnown {
				return r.Lag.Seconds()
			}
			return math.NaN()
		}))
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// authReasons names the 401 codes for the auth failure series.
var authReasons = map[gen.ErrorCode]string{
	gen.CodeMissingSession:  "missing_session",
	gen.CodeInvalidSession:  "invalid_session",
	gen.CodeExpiredSession:  "expired_session",
	gen.CodeInactiveSession: "inactive_session",
}

// instrument observes every request. It sits inside the access log, so it
// sees the handler's error before it is rendered and reads the status the
// renderer will send from the same classification.
func (m *metrics) instrument(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		status := c.Response().Status
		if err != nil {
			ae := classify(err)
			status = ae.status
			if status < http.StatusInternalServerError {
				m.rejections.WithLabelValues(strconv.Itoa(int(ae.code))).Inc()
			}
			if reason, ok := authReasons[ae.code]; ok {
				m.authFailures.WithLabelValues(reason).Inc()
			}
		}
		route := c.Path()
		if route == "" || c.Handler() == nil || (err != nil && classify(err) == errRouteNotFound) {
			route = "unmatched"
		}
		method := methodLabel(c.Request().Method)
		m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
		m.latency.WithLabelValues(route, method).Observe(time.Since(start).Seconds())
		return err
	}
}

// methodLabel keeps the method label in a closed set: any client can send
// any token as a method, and each would otherwise be a new series.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "other"
}

// MetricsHandler serves reg in the Prometheus format, for a listener of its
// own (Config.MetricsElsewhere).
func MetricsHandler(reg prometheus.Gatherer) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}

// instrumentedStore times the store calls a request makes, and gives each
// its span (store.<op>), the parent of its statements'; every other method
// passes through untimed.
type instrumentedStore struct {
	domain.Store
	m     *metrics
	spans spans
}

func (s instrumentedStore) begin(ctx context.Context, op string) (context.Context, trace.Span, time.Time) {
	if s.spans.tracer == nil {
		return ctx, noSpan, time.Now() // and no name to build
	}
	ctx, span := s.spans.start(ctx, "store."+op)
	return ctx, span, time.Now()
}

func (s instrumentedStore) observe(op string, start time.Time, span trace.Span, err error) {
	result := "ok"
	switch {
	case errors.Is(err, domain.ErrNotFound):
		result = "not_found" // an answer, not a failure
	case err != nil:
		result = "error"
		fail(span, "store")
	}
	s.m.store.WithLabelValues(op, result).Observe(time.Since(start).Seconds())
	span.End()
}

func (s instrumentedStore) DeploymentByHost(ctx context.Context, host string) (domain.Deployment, error) {
	ctx, span, start := s.begin(ctx, "deployment_by_host")
	d, err := s.Store.DeploymentByHost(ctx, host)
	s.observe("deployment_by_host", start, span, err)
	return d, err
}

func (s instrumentedStore) Session(ctx context.Context, deploymentID, sessionID int64) (domain.SessionState, error) {
	ctx, span, start := s.begin(ctx, "session")
	st, err := s.Store.Session(ctx, deploymentID, sessionID)
	s.observe("session", start, span, err)
	return st, err
}

func (s instrumentedStore) Memberships(ctx context.Context, q domain.MembershipQuery) ([]domain.Membership, error) {
	ctx, span, start := s.begin(ctx, "memberships")
	ms, err := s.Store.Memberships(ctx, q)
	s.observe("memberships", start, span, err)
	return ms, err
}

func (s instrumentedStore) Changes(ctx context.Context, since int64, limit int) ([]domain.Change, error) {
	ctx, span, start := s.begin(ctx, "changes")
	cs, err := s.Store.Changes(ctx, since, limit)
	s.observe("changes", start, span, err)
	return cs, err
}

func (s instrumentedStore) Ping(ctx context.Context) error {
	ctx, span, start := s.begin(ctx, "ping")
	err := s.Store.Ping(ctx)
	s.observe("ping", start, span, err)
	return err
}
