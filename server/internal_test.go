package server

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

// A panic in a handler becomes a 500 envelope, not a dropped connection.
func TestPanicBecomes500(t *testing.T) {
	e := echo.New()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	e.HTTPErrorHandler = renderError(log)
	e.Use(withRequestID, accessLog(log), recoverPanics(log))
	e.GET("/boom", func(echo.Context) error { panic("secret detail") })
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/boom", nil))
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), `"code":1900`) || strings.Contains(rec.Body.String(), "secret") {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}
