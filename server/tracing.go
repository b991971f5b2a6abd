package server

import (
	"context"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/wachtbench/memberships/internal/tracing"
)

// The spans of a request (Config.TracerProvider): the HTTP request, and
// within it the store calls, the authentication and the refresh; the
// stores add one per SQL statement. A span records the route template,
// never the URL (whose query may carry a __dev_session__ token), and no
// header: tokens, cookies and keys stay out of every span.

// scope is the instrumentation scope of the server's spans.
const scope = "github.com/wachtbench/memberships/server"

// Attributes of this service, outside the semantic conventions.
const (
	attrDeployment = attribute.Key("memberships.deployment.id")
	attrScheme     = attribute.Key("memberships.auth.scheme")
	attrExpired    = attribute.Key("memberships.auth.expired")
)

// spans starts the server's spans. Its zero value (tracing off) starts none
// and returns noSpan, whose methods do nothing, so callers need no checks
// and a request pays nothing.
type spans struct{ tracer trace.Tracer }

func newSpans(tp trace.TracerProvider) spans {
	if tp == nil {
		return spans{}
	}
	return spans{tp.Tracer(scope)}
}

var noSpan = trace.SpanFromContext(context.Background())

func (s spans) start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	if s.tracer == nil {
		return ctx, noSpan
	}
	return s.tracer.Start(ctx, name, opts...)
}

// fail marks span failed with errType, a name from a closed set (an error
// code's reason, never an error's message).
func fail(span trace.Span, errType string) {
	span.SetAttributes(semconv.ErrorTypeKey.String(errType))
	span.SetStatus(codes.Error, errType)
}

// errorType names an authentication or refresh failure by its envelope: the
// reason of a 401 (as memberships_auth_failures_total has it), else
// "internal".
func errorType(err error) string {
	if reason, ok := authReasons[classify(err).code]; ok {
		return reason
	}
	return "internal"
}

// traceRequests gives each request its server span, continuing the trace of
// an incoming W3C traceparent. It is the outermost middleware: the span
// covers the whole request, its context reaches the access log (which logs
// its trace id), and the status it records is the one rendered.
func (s spans) traceRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		ctx := continued(tracing.Propagator.Extract(req.Context(), propagation.HeaderCarrier(req.Header)))
		method, route := semconvMethod(req.Method), c.Path() // the template; "" when no route matched
		name := method
		if method == "_OTHER" {
			name = "HTTP"
		}
		attrs := []attribute.KeyValue{semconv.HTTPRequestMethodKey.String(method)}
		if route != "" {
			name += " " + route
			// url.path only where a route matched: no path a client made
			// up of any length; the query (a __dev_session__) never.
			attrs = append(attrs, semconv.HTTPRoute(route), semconv.URLPath(req.URL.Path))
		}
		if req.TLS != nil {
			attrs = append(attrs, semconv.URLScheme("https"))
		} else {
			attrs = append(attrs, semconv.URLScheme("http"))
		}
		ctx, span := s.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...))
		defer span.End()
		c.SetRequest(req.WithContext(ctx))
		err := next(c)
		if err != nil {
			c.Error(err) // render now, so the status below is the one sent
		}
		status := c.Response().Status
		span.SetAttributes(semconv.HTTPResponseStatusCode(status))
		if st := stateFrom(c.Request().Context()); st != nil {
			// Only a host that named a deployment: anyone may send any
			// Host, of any length.
			span.SetAttributes(attrDeployment.Int64(st.deployment.ID), semconv.ServerAddress(hostname(req.Host)))
		}
		if status >= http.StatusInternalServerError {
			fail(span, strconv.Itoa(status))
		}
		return nil
	}
}

// maxTraceState is the most of an incoming tracestate carried on: W3C
// Trace Context asks to propagate at least 512 characters, and every span
// of the request would carry it.
const maxTraceState = 512

// continued is the remote span context of ctx with an oversized tracestate
// dropped (the trace itself continues).
func continued(ctx context.Context) context.Context {
	sc := trace.SpanContextFromContext(ctx)
	if ts := sc.TraceState(); len(ts.String()) > maxTraceState {
		ctx = trace.ContextWithRemoteSpanContext(ctx, sc.WithTraceState(trace.TraceState{}))
	}
	return ctx
}

// semconvMethod is the http.request.method of m: the known methods as they
// are, anything else _OTHER (clients may send any token).
func semconvMethod(m string) string {
	if l := methodLabel(m); l != "other" {
		return l
	}
	return "_OTHER"
}
