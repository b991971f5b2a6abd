package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wachtbench/memberships/examples"
	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/internal/eligibility"
	"github.com/wachtbench/memberships/internal/loadfile"
	"github.com/wachtbench/memberships/internal/store"
	"github.com/wachtbench/memberships/internal/store/fragment"
	"github.com/wachtbench/memberships/internal/tracing"
	"github.com/wachtbench/memberships/server"
)

// flushTimeout bounds sending the last spans at shutdown: a collector that
// is gone must not hold the process.
const flushTimeout = 5 * time.Second

// redactURL is u for logs: without a password it may carry.
func redactURL(u string) string {
	if p, err := url.Parse(u); err == nil {
		return p.Redacted()
	}
	return ""
}

type serveConfig struct {
	addr, metricsAddr, logFormat, logLevel, validateResponses string
	otlpEndpoint                                              string
	trustedProxies                                            []string
	demo                                                      bool
	db                                                        dbConfig
	maxHeaderBytes, fragmentCache                             int
	answerCache                                               *sizeValue
	// Limits, by flag name; 0 switches one off.
	maxInFlight, limitFailures, limitSession int
	// Timeouts, by flag name.
	drain, readHeader, read, write, idle, handler, query, cacheTTL time.Duration
}

func serveCmd(e env) *cobra.Command {
	var c serveConfig
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the API (migrates; demo data only on the default SQLite file or with --demo)",
		Long: `Serve GET /me/workspace-memberships. The schema is migrated on start. The
demo data set (examples/demo.yaml: deployment "localhost", also 127.0.0.1,
with user demo@example.com) goes into an empty database only when it is the
default SQLite file (` + defaultDB + `) or --demo asks for it; never into a
database named otherwise, PostgreSQL included.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return serve(cmd.Context(), e, c, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "address to listen on (host:port; port 0: any free one)")
	fs.StringVar(&c.metricsAddr, "metrics-addr", "", "serve /metrics on this address only, not on the API's (empty: on --addr)")
	fs.StringVar(&c.validateResponses, "validate-responses", "production=off,staging=log",
		"check answers against openapi.yaml before they leave: off, log (send, count, log the rule) or enforce (500 instead); one for all deployments or per mode, mode=value,…")
	e.dbFlags(fs, &c.db)
	fs.StringSliceVar(&c.trustedProxies, "trusted-proxies", nil, "IPs or CIDRs of the proxies whose X-Forwarded-For is believed, comma-separated or repeated")
	fs.StringVar(&c.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&c.otlpEndpoint, "otlp-endpoint", "",
		"export OpenTelemetry traces over OTLP/HTTP to this collector (a base URL like http://collector:4318; spans are posted to its /v1/traces); empty: "+
			tracing.EnvTracesEndpoint+" or "+tracing.EnvEndpoint+" when set, else no tracing. Spans never record tokens, cookies or keys")
	fs.BoolVar(&c.demo, "demo", false, "load the demo data set into an empty database (the default SQLite file gets it anyway)")
	c.answerCache = newSize(fmt.Sprintf("%dMiB", server.DefaultAnswerBytes>>20), answerCacheSize)
	fs.Var(c.answerCache, "answer-cache",
		"the most bytes of answers kept whole (KiB, MiB or GiB), each sent again without a read while the change feed names nothing it shows; 0: none (docs/caching.md)")
	// PreRunE refuses a negative duration and a count below its minimum.
	durations := []struct {
		p     *time.Duration
		name  string
		def   time.Duration
		usage string
	}{
		{&c.drain, "drain", 10 * time.Second, "how long in-flight requests may finish on shutdown"},
		{&c.readHeader, "read-header-timeout", 5 * time.Second, "time to read a request's headers"},
		{&c.read, "read-timeout", 10 * time.Second, "time to read a whole request"},
		{&c.write, "write-timeout", 15 * time.Second, "time to write a response, from the end of the request headers"},
		{&c.idle, "idle-timeout", 60 * time.Second, "how long an idle keep-alive connection stays open"},
		{&c.handler, "handler-timeout", 10 * time.Second, "deadline for handling one request (0: none)"},
		{&c.query, "query-timeout", 3 * time.Second, "deadline for one database call on the request path (0: none)"},
		{&c.cacheTTL, "cache-ttl", 5 * time.Second, "how long deployments and active sessions are cached: the longest a revoked session still works on this instance (0: no cache)"},
	}
	for _, d := range durations {
		fs.DurationVar(d.p, d.name, d.def, d.usage)
	}
	counts := []struct {
		p        *int
		name     string
		def, min int
		usage    string
	}{
		{&c.maxInFlight, "max-inflight", 512, 0, "API requests answered at once; more are refused at once with 503 and Retry-After (0: no cap)"},
		{&c.limitFailures, "limit-failures", 30, 0, "failed requests (bad or missing sessions, unknown hosts) a client address may make per minute, in bursts of as many; then 429 (0: no limit)"},
		{&c.limitSession, "limit-session", 120, 0, "requests a session may make per minute, in bursts of as many; then 429 (0: no limit)"},
		{&c.maxHeaderBytes, "max-header-bytes", 1 << 20, 4096, "largest request header accepted, at least 4096; larger ones get Go's plain 431"},
		{&c.fragmentCache, "fragment-cache", fragment.DefaultSize, 1, "workspaces, organizations and roles kept, read and encoded, of each kind, at least 1 (docs/caching.md: sizing)"},
	}
	for _, n := range counts {
		fs.IntVar(n.p, n.name, n.def, n.usage)
	}
	cmd.PreRunE = func(cmd *cobra.Command, _ []string) error {
		for _, d := range durations {
			if *d.p < 0 {
				return badValue(cmd.Flags(), d.name, "%s is negative", *d.p)
			}
		}
		for _, n := range counts {
			if *n.p < n.min {
				return badValue(cmd.Flags(), n.name, "%d is less than %d", *n.p, n.min)
			}
		}
		return nil
	}
	return cmd
}

func newLogger(fs *pflag.FlagSet, w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, badValue(fs, "log-level", "%q is not one of debug, info, warn, error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	// A line logged with a traced request's context carries its trace_id.
	switch format {
	case "text":
		return slog.New(tracing.LogHandler(slog.NewTextHandler(w, opts))), nil
	case "json":
		return slog.New(tracing.LogHandler(slog.NewJSONHandler(w, opts))), nil
	}
	return nil, badValue(fs, "log-format", "%q is not text or json", format)
}

func parseProxies(fs *pflag.FlagSet, list []string) ([]netip.Prefix, error) {
	if len(list) == 0 {
		return nil, nil
	}
	p, err := eligibility.ParseTrustedProxies(list)
	if err != nil {
		return nil, badValue(fs, "trusted-proxies", "%v", err)
	}
	return p, nil
}

func serve(ctx context.Context, e env, c serveConfig, stdout, stderr io.Writer) error {
	fs := c.db.flags
	log, err := newLogger(fs, stderr, c.logFormat, c.logLevel)
	if err != nil {
		return err
	}
	proxies, err := parseProxies(fs, c.trustedProxies)
	if err != nil {
		return err
	}
	validate, err := server.ParseResponseValidation(c.validateResponses)
	if err != nil {
		return badValue(fs, "validate-responses", "%v", err)
	}
	tcfg := tracing.Config{Endpoint: c.otlpEndpoint, Getenv: e, Version: appVersion(), Logger: log}
	target, from, err := tcfg.TracesURL()
	if err != nil {
		if from == "" {
			return badValue(fs, "otlp-endpoint", "%v", err)
		}
		return usagef("%s: %v", from, err)
	}
	tp, err := tracing.Setup(ctx, tcfg)
	if err != nil {
		return err
	}
	// Deferred before the database closes, so the spans of the last
	// requests, batched, are sent once the servers have drained.
	defer func() {
		if err := tp.Shutdown(flushTimeout); err != nil {
			log.Warn("tracing: spans lost at shutdown", "error", err)
		}
	}()
	if tp != nil {
		log.Info("tracing: exporting spans over OTLP/HTTP", "url", redactURL(target))
	}
	c.db.log, c.db.tracer = log, tp.Traces()
	frag := fragment.NewCache(c.fragmentCache)
	c.db.fragments = frag
	db, err := c.db.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	if !c.db.sealed() {
		log.Warn("signing keys are stored unencrypted; set " + keyEncryptionKeyEnv + " to seal them")
	}
	demo := c.demo || c.db.url == defaultDB
	if demo {
		if err := loadDemoIfEmpty(ctx, db, log); err != nil {
			return err
		}
	}
	st := store.WithQueryTimeout(db, c.query)
	reg := server.NewRegistry()
	h, err := server.New(server.Config{
		TrustedProxies: proxies, Logger: log, HandlerTimeout: c.handler, CacheTTL: c.cacheTTL,
		MaxInFlight: c.maxInFlight, FailuresPerMinute: c.limitFailures, SessionRequestsPerMinute: c.limitSession,
		Registry: reg, MetricsElsewhere: c.metricsAddr != "", ValidateResponses: validate, Fragments: frag,
		AnswerBytes: int(c.answerCache.bytes), TracerProvider: tp.Traces(),
	}, st)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return badValue(fs, "addr", "%v", err)
	}
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && c.metricsAddr == "" && !tcp.IP.IsLoopback() {
		log.Warn("/metrics is served on --addr, to every deployment's host; set --metrics-addr to a private address")
	}
	servers := []*http.Server{{Handler: h}}
	listeners := []net.Listener{ln}
	metricsURL := "http://" + ln.Addr().String()
	if c.metricsAddr != "" {
		mln, err := net.Listen("tcp", c.metricsAddr)
		if err != nil {
			ln.Close()
			return badValue(fs, "metrics-addr", "%v", err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", server.MetricsHandler(reg))
		servers = append(servers, &http.Server{Handler: mux})
		listeners = append(listeners, mln)
		metricsURL = "http://" + mln.Addr().String()
	}
	for _, srv := range servers {
		srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout = c.readHeader, c.read, c.write, c.idle
		srv.MaxHeaderBytes = c.maxHeaderBytes
		srv.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	}
	url := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, "memberships: serving %s/me/workspace-memberships (database %s)\n", url, c.db.name())
	if demo {
		fmt.Fprintf(stdout, "mint a demo token:  memberships token --db %s --user demo@example.com --host localhost\n", c.db.name())
		fmt.Fprintf(stdout, "then:               curl -H \"Host: localhost\" --cookie \"__session=$TOKEN\" %s/me/workspace-memberships\n", url)
	}
	fmt.Fprintf(stdout, "reference:          %s/docs (contract: /openapi.yaml, /openapi.json)\n", url)
	fmt.Fprintf(stdout, "operations:         %s/healthz /readyz, %s/metrics\n", url, metricsURL)

	errc := make(chan error, len(servers))
	for i, srv := range servers {
		go func() { errc <- srv.Serve(listeners[i]) }()
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "drain", c.drain)
	sctx, cancel := context.WithTimeout(context.Background(), c.drain)
	defer cancel()
	for _, srv := range servers {
		if err := srv.Shutdown(sctx); err != nil {
			return fmt.Errorf("shutdown: %w", err)
		}
	}
	for range servers {
		if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	return nil
}

// loadDemoIfEmpty gives a fresh database the demo data set. Instances
// starting together on one database all see it empty; the load is all or
// nothing and its fixed ids and hosts collide, so exactly one wins, and a
// loser that then finds the database filled carries on.
func loadDemoIfEmpty(ctx context.Context, st domain.Store, log *slog.Logger) error {
	empty, err := st.Empty(ctx)
	if err != nil || !empty {
		return err
	}
	ds, err := loadfile.Parse("examples/demo.yaml", examples.Demo, time.Now())
	if err != nil {
		return fmt.Errorf("demo data: %w", err)
	}
	if err := st.Load(ctx, ds); err != nil {
		if empty, err2 := st.Empty(ctx); err2 == nil && !empty {
			log.Info("demo data: loaded by another instance")
			return nil
		}
		return fmt.Errorf("demo data: %w", err)
	}
	log.Info("demo data: loaded into the empty database")
	return nil
}

// answerCacheSize parses --answer-cache into server.Config.AnswerBytes: a
// size (parseSize) up to 1 TiB; 0 keeps none.
func answerCacheSize(v string) (int64, error) {
	n, err := parseSize(v, 1<<40)
	if n == 0 && err == nil {
		n = -1
	}
	return n, err
}
