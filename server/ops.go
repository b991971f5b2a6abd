package server

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	memberships "github.com/wachtbench/memberships"
	"github.com/wachtbench/memberships/internal/domain"
)

// swaggerUI is the interactive reference served on /docs: Swagger UI's
// built assets, vendored by scripts/vendor-swagger-ui.sh, and our page.
//
//go:embed swaggerui
var swaggerUI embed.FS

// readyTimeout bounds the database check of /readyz, so a stuck database
// makes the probe fail rather than hang.
const readyTimeout = 2 * time.Second

// readiness is /readyz's answer with a read replica: still ready whatever
// the replica does (reads fall back to the primary), saying where they go.
type readiness struct {
	Status  string         `json:"status"`
	Replica replicaDetails `json:"replica"`
}

type replicaDetails struct {
	InUse         bool     `json:"in_use"`
	Answers       bool     `json:"answers"`
	LagSeconds    *float64 `json:"lag_seconds"` // null: not measured
	MaxLagSeconds float64  `json:"max_lag_seconds"`
}

func replicaReadiness(r domain.ReplicaState) replicaDetails {
	d := replicaDetails{InUse: r.InUse, Answers: r.Answers, MaxLagSeconds: r.MaxLag.Seconds()}
	if r.LagKnown {
		lag := r.Lag.Seconds()
		d.LagSeconds = &lag
	}
	return d
}

// registerOps mounts what operators and tools use, outside the contract and
// whatever the Host: liveness, readiness, metrics, the contract itself and
// its reference page.
// gatherer is nil when /metrics is served elsewhere.
func registerOps(e *echo.Echo, store domain.Store, gatherer prometheus.Gatherer, log *slog.Logger) error {
	spec, err := openapi3.NewLoader().LoadFromData(memberships.OpenAPI)
	if err != nil {
		return fmt.Errorf("loading openapi.yaml: %w", err)
	}
	specJSON, err := json.Marshal(spec)
	if err != nil {
		return fmt.Errorf("openapi.yaml as JSON: %w", err)
	}
	ui, err := fs.Sub(swaggerUI, "swaggerui")
	if err != nil {
		return err
	}

	e.GET("/healthz", func(c echo.Context) error {
		c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
		return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
	})
	e.GET("/readyz", func(c echo.Context) error {
		c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
		ctx, cancel := context.WithTimeout(c.Request().Context(), readyTimeout)
		defer cancel()
		if err := store.Ping(ctx); err != nil {
			log.WarnContext(ctx, "not ready", "request_id", requestID(c), "err", err)
			return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": "database unreachable"})
		}
		if r := store.Replica(); r.Configured {
			return c.JSON(http.StatusOK, readiness{Status: "ok", Replica: replicaReadiness(r)})
		}
		return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
	})
	if gatherer != nil {
		e.GET("/metrics", echo.WrapHandler(MetricsHandler(gatherer)))
	}
	e.GET("/openapi.yaml", func(c echo.Context) error {
		return c.Blob(http.StatusOK, "application/yaml; charset=utf-8", memberships.OpenAPI)
	})
	e.GET("/openapi.json", func(c echo.Context) error {
		return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, specJSON)
	})
	index, err := fs.ReadFile(ui, "index.html")
	if err != nil {
		return err
	}
	page := func(c echo.Context) error { return c.HTMLBlob(http.StatusOK, index) }
	e.GET("/docs", page)
	e.GET("/docs/", page)
	e.GET("/docs/*", echo.WrapHandler(http.StripPrefix("/docs/", http.FileServerFS(ui))))
	return nil
}
