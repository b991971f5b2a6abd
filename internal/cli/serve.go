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
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wachtbench/memberships/examples"
	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/internal/eligibility"
	"github.com/wachtbench/memberships/internal/loader"
	"github.com/wachtbench/memberships/internal/store"
	"github.com/wachtbench/memberships/internal/store/fragment"
	"github.com/wachtbench/memberships/server"
)

type serveConfig struct {
	addr, metricsAddr, trustedProxies, logFormat, logLevel, validateResponses, demo string
	db                                                                              dbConfig
	maxHeaderBytes, fragmentCache                                                   int
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
	e.stringFlag(fs, &c.addr, "addr", "MEMBERSHIPS_ADDR", "127.0.0.1:8080", "address to listen on")
	e.stringFlag(fs, &c.metricsAddr, "metrics-addr", "MEMBERSHIPS_METRICS_ADDR", "", "serve /metrics on this address only, not on the API's (empty: on --addr)")
	e.stringFlag(fs, &c.validateResponses, "validate-responses", "MEMBERSHIPS_VALIDATE_RESPONSES", "production=off,staging=log",
		"check answers against openapi.yaml before they leave: off, log (send, count, log the rule) or enforce (500 instead); one for all deployments or per mode, mode=value,…")
	e.dbFlags(fs, &c.db)
	e.stringFlag(fs, &c.trustedProxies, "trusted-proxies", "MEMBERSHIPS_TRUSTED_PROXIES", "", "comma-separated IPs/CIDRs of proxies whose X-Forwarded-For is believed")
	e.stringFlag(fs, &c.logFormat, "log-format", "MEMBERSHIPS_LOG_FORMAT", "text", "log format: text or json")
	e.stringFlag(fs, &c.logLevel, "log-level", "MEMBERSHIPS_LOG_LEVEL", "info", "log level: debug, info, warn or error")
	e.stringFlag(fs, &c.demo, "demo", "MEMBERSHIPS_DEMO", "false", "load the demo data set into an empty database (true or false; the default SQLite file gets it anyway)")
	fs.Lookup("demo").NoOptDefVal = "true" // a bare --demo
	durations := []struct {
		p                     *time.Duration
		name, env, def, usage string
	}{
		{&c.drain, "drain", "MEMBERSHIPS_DRAIN", "10s", "how long in-flight requests may finish on shutdown"},
		{&c.readHeader, "read-header-timeout", "MEMBERSHIPS_READ_HEADER_TIMEOUT", "5s", "time to read a request's headers"},
		{&c.read, "read-timeout", "MEMBERSHIPS_READ_TIMEOUT", "10s", "time to read a whole request"},
		{&c.write, "write-timeout", "MEMBERSHIPS_WRITE_TIMEOUT", "15s", "time to write a response, from the end of the request headers"},
		{&c.idle, "idle-timeout", "MEMBERSHIPS_IDLE_TIMEOUT", "60s", "how long an idle keep-alive connection stays open"},
		{&c.handler, "handler-timeout", "MEMBERSHIPS_HANDLER_TIMEOUT", "10s", "deadline for handling one request (0: none)"},
		{&c.query, "query-timeout", "MEMBERSHIPS_QUERY_TIMEOUT", "3s", "deadline for one database call on the request path (0: none)"},
		{&c.cacheTTL, "cache-ttl", "MEMBERSHIPS_CACHE_TTL", "5s", "how long deployments and active sessions are cached: the longest a revoked session still works on this instance (0: no cache)"},
	}
	raw := make([]string, len(durations))
	for i, d := range durations {
		e.stringFlag(fs, &raw[i], d.name, d.env, d.def, d.usage)
	}
	limits := []struct {
		p                     *int
		name, env, def, usage string
	}{
		{&c.maxInFlight, "max-inflight", "MEMBERSHIPS_MAX_INFLIGHT", "512", "API requests answered at once; more are refused at once with 503 and Retry-After (0: no cap)"},
		{&c.limitFailures, "limit-failures", "MEMBERSHIPS_LIMIT_FAILURES", "30", "failed requests (bad or missing sessions, unknown hosts) a client address may make per minute, in bursts of as many; then 429 (0: no limit)"},
		{&c.limitSession, "limit-session", "MEMBERSHIPS_LIMIT_SESSION", "120", "requests a session may make per minute, in bursts of as many; then 429 (0: no limit)"},
	}
	rawLimits := make([]string, len(limits))
	for i, l := range limits {
		e.stringFlag(fs, &rawLimits[i], l.name, l.env, l.def, l.usage)
	}
	maxHeader := "1048576"
	e.stringFlag(fs, &maxHeader, "max-header-bytes", "MEMBERSHIPS_MAX_HEADER_BYTES", maxHeader, "largest request header accepted; larger ones get Go's plain 431")
	fragments := strconv.Itoa(fragment.DefaultSize)
	e.stringFlag(fs, &fragments, "fragment-cache", "MEMBERSHIPS_FRAGMENT_CACHE", fragments,
		"encoded workspaces, organizations and roles kept, of each kind (README: sizing)")
	cmd.PreRunE = func(*cobra.Command, []string) error {
		for i, d := range durations {
			v, err := time.ParseDuration(raw[i])
			if err != nil || v < 0 {
				return usagef("--%s: %q is not a duration like 10s", d.name, raw[i])
			}
			*d.p = v
		}
		for i, l := range limits {
			v, err := strconv.Atoi(rawLimits[i])
			if err != nil || v < 0 {
				return usagef("--%s: %q is not a whole number ≥ 0", l.name, rawLimits[i])
			}
			*l.p = v
		}
		if _, err := strconv.ParseBool(c.demo); err != nil {
			return usagef("--demo: %q is not true or false", c.demo)
		}
		n, err := strconv.Atoi(maxHeader)
		if err != nil || n < 4096 {
			return usagef("--max-header-bytes: %q is not a number of bytes ≥ 4096", maxHeader)
		}
		c.maxHeaderBytes = n
		if c.fragmentCache, err = strconv.Atoi(fragments); err != nil || c.fragmentCache < 1 {
			return usagef("--fragment-cache: %q is not a positive number of entries", fragments)
		}
		return nil
	}
	return cmd
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, usagef("--log-level: %q is not one of debug, info, warn, error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, usagef("--log-format: %q is not text or json", format)
}

func parseProxies(list string) ([]netip.Prefix, error) {
	if strings.TrimSpace(list) == "" {
		return nil, nil
	}
	p, err := eligibility.ParseTrustedProxies(strings.Split(list, ","))
	if err != nil {
		return nil, usagef("--trusted-proxies: %v", err)
	}
	return p, nil
}

func serve(ctx context.Context, e env, c serveConfig, stdout, stderr io.Writer) error {
	log, err := newLogger(stderr, c.logFormat, c.logLevel)
	if err != nil {
		return err
	}
	proxies, err := parseProxies(c.trustedProxies)
	if err != nil {
		return err
	}
	validate, err := server.ParseResponseValidation(c.validateResponses)
	if err != nil {
		return usagef("--validate-responses: %v", err)
	}
	c.db.log = log
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
	demo, _ := strconv.ParseBool(c.demo) // checked in PreRunE
	demo = demo || c.db.url == defaultDB
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
	}, st)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return usagef("--addr: %v", err)
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
			return usagef("--metrics-addr: %v", err)
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
	ds, err := loader.Parse("examples/demo.yaml", examples.Demo, time.Now())
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
