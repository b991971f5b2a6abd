package sqlite

import (
	"path/filepath"
	"testing"

	"go.opentelemetry.io/otel/trace"

	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/internal/store/storetest"
)

func TestStatementSpans(t *testing.T) {
	storetest.StatementSpans(t, func(t *testing.T, tp trace.TracerProvider) domain.Store {
		s := openTemp(t, filepath.Join(t.TempDir(), "test.db"))
		s.UseTracing(tp)
		return s
	}, "sqlite")
}
