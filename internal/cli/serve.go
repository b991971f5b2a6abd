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
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wachtbench/memberships/examples"
	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/internal/eligibility"
	"github.com/wachtbench/memberships/internal/loader"
	"github.com/wachtbench/memberships/server"
)

type serveConfig struct {
	addr, trustedProxies, logFormat, logLevel string
	db                                        dbConfig
	drain                                     time.Duration
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
			return serve(cmd.Context(), c, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	fs := cmd.Flags()
	e.stringFlag(fs, &c.addr, "addr", "MEMBERSHIPS_ADDR", "127.0.0.1:8080", "address to listen on")
	e.dbFlags(fs, &c.db)
	e.stringFlag(fs, &c.trustedProxies, "trusted-proxies", "MEMBERSHIPS_TRUSTED_PROXIES", "", "comma-separated IPs/CIDRs of proxies whose X-Forwarded-For is believed")
	e.stringFlag(fs, &c.logFormat, "log-format", "MEMBERSHIPS_LOG_FORMAT", "text", "log format: text or json")
	e.stringFlag(fs, &c.logLevel, "log-level", "MEMBERSHIPS_LOG_LEVEL", "info", "log level: debug, info, warn or error")
	drain := "10s"
	e.stringFlag(fs, &drain, "drain", "MEMBERSHIPS_DRAIN", drain, "how long in-flight requests may finish on shutdown")
	cmd.PreRunE = func(*cobra.Command, []string) error {
		d, err := time.ParseDuration(drain)
		if err != nil || d < 0 {
			return usagef("--drain: %q is not a duration", drain)
		}
		c.drain = d
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

func serve(ctx context.Context, c serveConfig, stdout, stderr io.Writer) error {
	log, err := newLogger(stderr, c.logFormat, c.logLevel)
	if err != nil {
		return err
	}
	proxies, err := parseProxies(c.trustedProxies)
	if err != nil {
		return err
	}
	st, err := c.db.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := loadDemoIfEmpty(ctx, st); err != nil {
		return err
	}
	h, err := server.New(server.Config{TrustedProxies: proxies, Logger: log}, st)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return usagef("--addr: %v", err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	url := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, "memberships: serving %s/me/workspace-memberships (database %s)\n", url, c.db.name())
	fmt.Fprintf(stdout, "mint a demo token:  memberships token --db %s --user demo@example.com --host localhost\n", c.db.name())
	fmt.Fprintf(stdout, "then:               curl -H \"Host: localhost\" --cookie \"__session=$TOKEN\" %s/me/workspace-memberships\n", url)

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
