package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/labstack/echo/v4"
)

const requestIDHeader = echo.HeaderXRequestID

// withRequestID keeps a sane incoming X-Request-Id (so a trace crosses
// services) and makes one otherwise; either is echoed in the response.
func withRequestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(requestIDHeader)
		if !validRequestID(id) {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		c.Set(requestIDHeader, id)
		c.Response().Header().Set(requestIDHeader, id)
		return next(c)
	}
}

// validRequestID accepts short tokens of [A-Za-z0-9._-], nothing that could
// forge a log line.
func validRequestID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		ch := id[i]
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '.' || ch == '_' || ch == '-') {
			return false
		}
	}
	return true
}

func requestID(c echo.Context) string {
	id, _ := c.Get(requestIDHeader).(string)
	return id
}

// withTimeout gives each request a deadline that its database work obeys.
func withTimeout(d time.Duration) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		if d <= 0 {
			return next
		}
		return func(c echo.Context) error {
			ctx, cancel := context.WithTimeout(c.Request().Context(), d)
			defer cancel()
			c.SetRequest(c.Request().WithContext(ctx))
			return next(c)
		}
	}
}

// recoverPanics turns a panic into a logged 500 envelope instead of a dropped
// connection.
func recoverPanics(log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) (err error) {
			defer func() {
				if r := recover(); r != nil {
					if r == http.ErrAbortHandler {
						panic(r)
					}
					log.ErrorContext(c.Request().Context(), "panic", "request_id", requestID(c), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
					err = internal(fmt.Errorf("panic: %v", r))
				}
			}()
			return next(c)
		}
	}
}

// accessLog writes one line per request. It logs the path without the query,
// which may carry a __dev_session__ token.
func accessLog(log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err) // render now, so the status below is the one sent
			}
			req := c.Request()
			attrs := []slog.Attr{
				slog.String("request_id", requestID(c)),
				slog.String("method", req.Method),
				slog.String("path", req.URL.Path),
				slog.String("host", req.Host),
				slog.Int("status", c.Response().Status),
				slog.Duration("latency", time.Since(start)),
			}
			// The API routes resolve the deployment; say which one answered.
			if st := stateFrom(req.Context()); st != nil {
				attrs = append(attrs, slog.Int64("deployment_id", st.deployment.ID))
			}
			log.LogAttrs(req.Context(), slog.LevelInfo, "request", attrs...)
			return nil
		}
	}
}
