package postgres

import (
	"testing"

	"go.opentelemetry.io/otel/trace"

	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/internal/store/storetest"
)

func TestStatementSpans(t *testing.T) {
	storetest.StatementSpans(t, func(t *testing.T, tp trace.TracerProvider) domain.Store {
		return openFresh(t, Options{TracerProvider: tp})
	}, "postgresql")
}
