// Package tracing is the OpenTelemetry setup: where spans are exported
// (OTLP over HTTP, only when an endpoint is configured), the W3C trace
// context propagated from incoming requests, the trace id in log lines
// (log.go), and the spans of database statements the stores share
// (statements.go).
//
// Tracing is off unless an endpoint is named: then no tracer provider
// exists, callers receive nil and start no span, so a request pays nothing
// for it. Nothing here sets OpenTelemetry's global provider: the provider
// is handed to the server and the stores, so tests run side by side with
// providers of their own.
//
// It imports only OpenTelemetry; cli sets it up, server and the stores use it.
package tracing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// The standard variables that name an OTLP endpoint when no flag does: the
// traces endpoint is a full URL, used as it is; the general one is a base
// to which the signal's path is appended (the OTLP exporter specification).
const (
	EnvTracesEndpoint = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
	EnvEndpoint       = "OTEL_EXPORTER_OTLP_ENDPOINT"
	tracesPath        = "/v1/traces"
)

// Propagator reads and writes the W3C traceparent and tracestate headers.
var Propagator propagation.TextMapPropagator = propagation.TraceContext{}

// Config says where spans go and who sends them.
type Config struct {
	// Endpoint is the collector's OTLP/HTTP base URL (http://host:4318),
	// as OTEL_EXPORTER_OTLP_ENDPOINT: spans are posted to its /v1/traces.
	// Empty: the standard variables decide (TracesURL).
	Endpoint string
	// Getenv reads the standard variables; injected so tests need no real
	// environment. Nil reads none.
	Getenv func(string) string
	// Version is the service.version of every span; empty leaves it out.
	Version string
	// Logger hears about spans that could not be exported; nil: silence.
	Logger *slog.Logger
}

// TracesURL is the URL spans are posted to: Endpoint's /v1/traces, else
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as it is, else
// OTEL_EXPORTER_OTLP_ENDPOINT's /v1/traces; "" when none is set, and
// tracing is off. from is the variable the URL came from ("" for
// Endpoint), for errors: one that is not http(s)://host… is refused, not
// quoted (a URL may carry credentials).
func (c Config) TracesURL() (target, from string, err error) {
	getenv := c.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	raw, base := c.Endpoint, true
	if raw == "" {
		if raw, from = getenv(EnvTracesEndpoint), EnvTracesEndpoint; raw != "" {
			base = false
		} else {
			raw, from = getenv(EnvEndpoint), EnvEndpoint
		}
	}
	if raw == "" {
		return "", "", nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", from, errors.New("not an http:// or https:// URL with a host")
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		// The exporter would drop credentials in the URL, and the URL is
		// logged: they belong in OTEL_EXPORTER_OTLP_HEADERS.
		return "", from, errors.New("credentials or a query in the URL: pass them in OTEL_EXPORTER_OTLP_HEADERS")
	}
	if base {
		u.Path = strings.TrimSuffix(u.Path, "/") + tracesPath
	}
	return u.String(), from, nil
}

// Provider is an installed tracer provider that exports over OTLP/HTTP.
type Provider struct{ sdk *sdktrace.TracerProvider }

// Setup returns the provider exporting to cfg's endpoint, or nil (tracing
// off) when none is configured. Spans are batched; Shutdown sends what is
// left.
func Setup(ctx context.Context, cfg Config) (*Provider, error) {
	target, from, err := cfg.TracesURL()
	if err != nil {
		if from == "" {
			return nil, fmt.Errorf("OTLP endpoint: %w", err)
		}
		return nil, fmt.Errorf("%s: %w", from, err)
	}
	if target == "" {
		return nil, nil
	}
	// The URL is passed explicitly, so it wins over the variables; the
	// exporter still reads the others it knows (OTEL_EXPORTER_OTLP_HEADERS,
	// _TIMEOUT, _COMPRESSION, _CERTIFICATE) from the process environment.
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(target))
	if err != nil {
		return nil, fmt.Errorf("OTLP exporter: %w", err)
	}
	attrs := []attribute.KeyValue{semconv.ServiceName("memberships")}
	if cfg.Version != "" {
		attrs = append(attrs, semconv.ServiceVersion(cfg.Version))
	}
	// Later options win: OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME
	// over the defaults; host.name tells instances apart.
	res, err := resource.New(ctx, resource.WithTelemetrySDK(), resource.WithSchemaURL(semconv.SchemaURL),
		resource.WithAttributes(attrs...), resource.WithHost(), resource.WithFromEnv())
	if err != nil {
		return nil, fmt.Errorf("tracing resource: %w", err)
	}
	if cfg.Logger != nil {
		// The SDK reports failed exports to OpenTelemetry's global error
		// handler, which otherwise prints unstructured lines on stderr.
		log := cfg.Logger
		otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
			log.Warn("tracing: spans not exported", "error", err)
		}))
	}
	return &Provider{sdk: sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res),
		sdktrace.WithRawSpanLimits(Limits()))}, nil
}

// Limits bound what one span may hold, whatever a request sends: the SDK's
// defaults, with attribute values cut at 256 bytes (unbounded by default).
func Limits() sdktrace.SpanLimits {
	l := sdktrace.NewSpanLimits()
	l.AttributeValueLengthLimit = 256
	return l
}

// Shutdown exports the spans still batched and stops the exporter, within
// timeout; a nil provider has nothing to do.
func (p *Provider) Shutdown(timeout time.Duration) error {
	if p == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := p.sdk.Shutdown(ctx); err != nil {
		return fmt.Errorf("tracing: flushing spans: %w", err)
	}
	return nil
}

// Traces is p as the interface the server and stores take: nil (tracing
// off) for a nil provider, not a non-nil interface holding nil.
func (p *Provider) Traces() trace.TracerProvider {
	if p == nil {
		return nil
	}
	return p.sdk
}
