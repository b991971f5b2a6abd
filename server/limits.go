package server

import (
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/internal/eligibility"
	"github.com/wachtbench/memberships/internal/limit"
)

// limits protect the API routes from abuse and overload, cheapest check
// first: a cap on requests in flight, then a budget of failures per client
// address (checked before the deployment lookup and the signature check it
// protects), then, once authenticated, a budget per session.
type limits struct {
	maxInFlight int64
	inFlight    atomic.Int64
	failures    *limit.Keyed[netip.Prefix]
	sessions    *limit.Keyed[sessionKey]
	trusted     []netip.Prefix
	now         func() time.Time
	m           *metrics
	// proofs bounds the signature checks a spent address may cause (see
	// exempt), at the failure budget's rate.
	proofs *limit.Keyed[netip.Prefix]
	// known and issued say a deployment issued a token: known from what
	// this instance verified (free), issued by checking its signature.
	known, issued func(d domain.Deployment, token string) bool
	// cached is the deployment on a host if this instance holds it: a
	// refusal grants CORS from it, asking no database.
	cached func(host string) (domain.Deployment, bool)
}

type sessionKey struct{ deployment, session int64 }

// Limit names, the label of the limit series.
const (
	limitFailures = "failures"
	limitSession  = "session"
)

func newLimits(cfg Config, m *metrics, reg prometheus.Registerer) (*limits, error) {
	l := &limits{
		maxInFlight: int64(cfg.MaxInFlight),
		failures:    limit.New[netip.Prefix](cfg.FailuresPerMinute, limit.BucketsPerLimit),
		proofs:      limit.New[netip.Prefix](cfg.FailuresPerMinute, limit.BucketsPerLimit),
		sessions:    limit.New[sessionKey](cfg.SessionRequestsPerMinute, limit.BucketsPerLimit),
		trusted:     cfg.TrustedProxies,
		now:         cfg.Now,
		m:           m,
	}
	if l.now == nil {
		l.now = time.Now
	}
	keys := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "memberships_rate_limit_keys",
		Help: "Client addresses or sessions whose budget is remembered (bounded), by limit.",
	}, []string{"limit"})
	inFlight := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "memberships_inflight_requests",
		Help: "API requests being answered now (capped by --max-inflight).",
	}, func() float64 { return float64(l.inFlight.Load()) })
	// The key counts are read when scraped, not kept up to date per request.
	keyCounts := gaugeFuncs{keys, map[string]func() int{limitFailures: l.failures.Len, limitSession: l.sessions.Len}}
	for _, c := range []prometheus.Collector{keyCounts, inFlight} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// shed refuses a request at once, 503, when maxInFlight are being answered:
// a queue would only turn into timeouts.
func (l *limits) shed(next echo.HandlerFunc) echo.HandlerFunc {
	if l.maxInFlight <= 0 {
		return next
	}
	return func(c echo.Context) error {
		defer l.inFlight.Add(-1)
		if l.inFlight.Add(1) > l.maxInFlight {
			l.m.shed.Inc()
			l.grantRefusal(c)
			return errOverloaded
		}
		return next(c)
	}
}

// clientKey is the bucket of a client address: IPv6 clients by /64, the
// least a subscriber is given, so one cannot rotate through its own block.
// Unknown addresses share one bucket.
func clientKey(a netip.Addr) netip.Prefix {
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p
	}
	return netip.PrefixFrom(a, a.BitLen())
}

// failureBudget refuses requests from a client address that spent its budget
// of failures; every failed authentication or unknown host spends one. A
// request that proves its deployment issued its token passes (exempt).
func (l *limits) failureBudget(next echo.HandlerFunc) echo.HandlerFunc {
	if l.failures == nil {
		return next
	}
	return func(c echo.Context) error {
		req := c.Request()
		key := clientKey(eligibility.ClientIP(req.RemoteAddr, req.Header.Values("X-Forwarded-For"), l.trusted))
		if wait := l.failures.Wait(key, l.now()); wait > 0 && !l.exempt(req, key) {
			l.m.limited.WithLabelValues(limitFailures).Inc()
			l.grantRefusal(c)
			return rateLimited(wait)
		}
		err := next(c)
		if err != nil {
			if ae := classify(err); ae.status == http.StatusUnauthorized || ae == errDeploymentNotFound {
				l.failures.Take(key, l.now())
			}
		}
		return err
	}
}

// exempt lets a request through its address's spent failure budget (users
// behind an attacker's NAT or office proxy) when its one session token was
// issued by the deployment of its Host: verified here before for that
// deployment (free), or — to refresh an expired token this instance never
// saw — by its signature, at most the failure budget's rate of checks per
// address. No database is asked: an uncached deployment is not exempt.
func (l *limits) exempt(req *http.Request, key netip.Prefix) bool {
	token, ok := presentedToken(req)
	if !ok || l.cached == nil {
		return false
	}
	d, ok := l.cached(hostname(req.Host))
	if !ok {
		return false
	}
	return l.known(d, token) || l.proofs.Take(key, l.now()) == 0 && l.issued(d, token)
}

// presentedToken is the session token a request carries, the cookie first,
// if it carries exactly one: only a hint for the failure budget;
// authentication reads it properly (and refuses two cookies).
func presentedToken(req *http.Request) (string, bool) {
	cookies := req.CookiesNamed(sessionCookie)
	switch {
	case len(cookies) == 1 && cookies[0].Value != "":
		return cookies[0].Value, true
	case len(cookies) == 0:
		q := req.URL.Query()[devSessionParam]
		return strings.Join(q, ""), len(q) == 1 && q[0] != ""
	}
	return "", false
}

// grantRefusal lets a listed origin read a refusal made before the
// deployment lookup (its Retry-After above all), when this instance holds
// the deployment; otherwise the browser reports only a failed fetch.
func (l *limits) grantRefusal(c echo.Context) {
	req, h := c.Request(), c.Response().Header()
	h.Add(echo.HeaderVary, echo.HeaderOrigin)
	origin := req.Header.Get(echo.HeaderOrigin)
	if origin == "" || l.cached == nil {
		return
	}
	if d, ok := l.cached(hostname(req.Host)); ok && slices.Contains(d.AllowedOrigins, strings.ToLower(origin)) {
		grant(h, origin)
		h.Set(echo.HeaderAccessControlExposeHeaders, exposedHeaders)
	}
}

// sessionBudget spends one of the authenticated session's budget.
func (l *limits) sessionBudget(next echo.HandlerFunc) echo.HandlerFunc {
	if l.sessions == nil {
		return next
	}
	return func(c echo.Context) error {
		st := stateFrom(c.Request().Context())
		if wait := l.sessions.Take(sessionKey{st.deployment.ID, st.caller.Session.ID}, l.now()); wait > 0 {
			l.m.limited.WithLabelValues(limitSession).Inc()
			return rateLimited(wait)
		}
		return next(c)
	}
}

// gaugeFuncs sets a gauge vector's values from functions when collected.
type gaugeFuncs struct {
	vec *prometheus.GaugeVec
	fns map[string]func() int
}

func (g gaugeFuncs) Describe(ch chan<- *prometheus.Desc) { g.vec.Describe(ch) }

func (g gaugeFuncs) Collect(ch chan<- prometheus.Metric) {
	for label, fn := range g.fns {
		g.vec.WithLabelValues(label).Set(float64(fn()))
	}
	g.vec.Collect(ch)
}
