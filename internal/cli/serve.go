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
	addr, trustedProxies, logFormat, logLevel string
	db                                        dbConfig
	maxHeaderBytes, fragmentCache             int
	// Timeouts, by flag name.
	drain, readHeader, read, write, idle, handler, query, cacheTTL time.Duration
}

func serveCmd(e env) *cobra.Command {
	var c serveConfig
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the API (migrates, and loads demo data into an empty database)",
		Long: `Serve GET /me/workspace-memberships. The schema is migrated on start; an
empty database first gets the demo data set (examples/demo.yaml): deployment
"localhost" (also 127.0.0.1) with user demo@example.com.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return serve(cmd.Context(), e, c, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	fs := cmd.Flags()
	e.stringFlag(fs, &c.addr, "addr", "MEMBERSHIPS_ADDR", "127.0.0.1:8080", "address to listen on")
	e.dbFlags(fs, &c.db)
	e.stringFlag(fs, &c.trustedProxies, "trusted-proxies", "MEMBERSHIPS_TRUSTED_PROXIES", "", "comma-separated IPs/CIDRs of proxies whose X-Forwarded-For is believed")
	e.stringFlag(fs, &c.logFormat, "log-format", "MEMBERSHIPS_LOG_FORMAT", "text", "log format: text or json")
	e.stringFlag(fs, &c.logLevel, "log-level", "MEMBERSHIPS_LOG_LEVEL", "info", "log level: debug, info, warn or error")
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
	if err := loadDemoIfEmpty(ctx, db); err != nil {
		return err
	}
	st := store.WithQueryTimeout(db, c.query)
	h, err := server.New(server.Config{TrustedProxies: proxies, Logger: log, HandlerTimeout: c.handler, CacheTTL: c.cacheTTL, Fragments: frag}, st)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return usagef("--addr: %v", err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: c.readHeader,
		ReadTimeout:       c.read,
		WriteTimeout:      c.write,
		IdleTimeout:       c.idle,
		MaxHeaderBytes:    c.maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	url := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, "memberships: serving %s/me/workspace-memberships (database %s)\n", url, c.db.name())
	fmt.Fprintf(stdout, "mint a demo token:  memberships token --db %s --user demo@example.com --host localhost\n", c.db.name())
	fmt.Fprintf(stdout, "then:               curl -H \"Host: localhost\" --cookie \"__session=$TOKEN\" %s/me/workspace-memberships\n", url)
	fmt.Fprintf(stdout, "reference:          %s/docs (contract: /openapi.yaml, /openapi.json)\n", url)
	fmt.Fprintf(stdout, "operations:         %s/healthz /readyz /metrics\n", url)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "drain", c.drain)
	sctx, cancel := context.WithTimeout(context.Background(), c.drain)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// loadDemoIfEmpty gives a fresh database the demo data set.
func loadDemoIfEmpty(ctx context.Context, st domain.Store) error {
	empty, err := st.Empty(ctx)
	if err != nil || !empty {
		return err
	}
	ds, err := loader.Parse("examples/demo.yaml", examples.Demo, time.Now())
	if err != nil {
		return fmt.Errorf("demo data: %w", err)
	}
	return st.Load(ctx, ds)
}
