package main

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// instrumentation names the gateway's tracer and meter.
const instrumentation = "github.com/HamiGames/lucid-data/examples/gateway"

// telemetry is the gateway's OpenTelemetry setup: a meter provider read by
// the OTel Prometheus exporter into a registry of its own (served on
// /metrics, with the Go runtime, process and volume collectors), and, when
// an OTLP endpoint is configured, a tracer provider batching spans to it.
type telemetry struct {
	reg      *prometheus.Registry
	mp       *sdkmetric.MeterProvider
	tp       *sdktrace.TracerProvider // nil without an OTLP endpoint
	endpoint string                   // the traces URL, "" for none
}

// newTelemetry builds the gateway's providers. endpoint is
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (the full URL) or
// OTEL_EXPORTER_OTLP_ENDPOINT (the base, to which /v1/traces is added, as
// the OTLP specification says); neither set: no tracing. The exporter reads
// the other OTEL_EXPORTER_OTLP_* variables (headers, timeout, compression,
// certificates) from the process environment itself.
func newTelemetry(ctx context.Context, getenv func(string) string) (*telemetry, error) {
	t := &telemetry{reg: prometheus.NewRegistry()}
	if err := errors.Join(
		t.reg.Register(collectors.NewGoCollector()),
		t.reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})),
	); err != nil {
		return nil, err
	}
	exp, err := otelprom.New(otelprom.WithRegisterer(t.reg))
	if err != nil {
		return nil, err
	}
	res := resource.NewSchemaless(attribute.String("service.name", "lucid-gateway"))
	t.mp = sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp), sdkmetric.WithResource(res))
	switch {
	case getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "":
		t.endpoint = getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
	case getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "":
		t.endpoint = strings.TrimRight(getenv("OTEL_EXPORTER_OTLP_ENDPOINT"), "/") + "/v1/traces"
	}
	if t.endpoint != "" {
		te, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(t.endpoint))
		if err != nil {
			_ = t.mp.Shutdown(ctx)
			return nil, err
		}
		t.tp = sdktrace.NewTracerProvider(sdktrace.WithBatcher(te), sdktrace.WithResource(res))
	}
	return t, nil
}

// tracerProvider is the providers' tracer, nil (no tracing in the SDK's
// clients, no cost) without an OTLP endpoint.
func (t *telemetry) tracerProvider() trace.TracerProvider {
	if t.tp == nil {
		return nil
	}
	return t.tp
}

// metricsHandler serves the registry in the Prometheus text format.
func (t *telemetry) metricsHandler() http.Handler {
	return promhttp.HandlerFor(t.reg, promhttp.HandlerOpts{})
}

// shutdown flushes the spans still batched and stops the providers.
func (t *telemetry) shutdown(ctx context.Context) error {
	var errs []error
	if t.tp != nil {
		errs = append(errs, t.tp.Shutdown(ctx))
	}
	return errors.Join(append(errs, t.mp.Shutdown(ctx))...)
}

// httpMeters are the gateway's own instruments.
type httpMeters struct {
	requests metric.Int64Counter
	duration metric.Float64Histogram
}

func newHTTPMeters(mp metric.MeterProvider) (*httpMeters, error) {
	m := mp.Meter(instrumentation)
	var hm httpMeters
	var errs [2]error
	hm.requests, errs[0] = m.Int64Counter("lucid.gateway.requests",
		metric.WithDescription("Requests served, by http.route, http.request.method and http.response.status_code."))
	hm.duration, errs[1] = m.Float64Histogram("lucid.gateway.request.duration", metric.WithUnit("s"),
		metric.WithDescription("Time to serve a request, by http.route and http.request.method."),
		metric.WithExplicitBucketBoundaries(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
	return &hm, errors.Join(errs[:]...)
}

// observe wraps the gateway's handler: one server span per request (a
// child of the caller's when a W3C traceparent header came with it) under
// which the SDK's client spans nest, and the request counter and duration
// histogram. Routes are named by their mux pattern ("GET /health"), never
// by the request path, which holds ids; a request no route matched is
// "unmatched". Nothing of the headers, query or body is recorded.
func observe(next http.Handler, tp trace.TracerProvider, m *httpMeters) http.Handler {
	var tracer trace.Tracer
	if tp != nil {
		tracer = tp.Tracer(instrumentation)
	}
	prop := propagation.TraceContext{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		var span trace.Span
		if tracer != nil {
			ctx := prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
			ctx, span = tracer.Start(ctx, r.Method, trace.WithSpanKind(trace.SpanKindServer),
				trace.WithAttributes(attribute.String("http.request.method", r.Method)))
			r = r.WithContext(ctx)
		}
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		// The mux fills in Pattern on the request it was given.
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		} else if _, p, ok := strings.Cut(route, " "); ok {
			route = p
		}
		status := sw.status
		if status == 0 {
			status = http.StatusOK
		}
		if span != nil {
			span.SetName(r.Method + " " + route)
			span.SetAttributes(attribute.String("http.route", route), attribute.Int("http.response.status_code", status))
			if status >= 500 {
				span.SetStatus(codes.Error, strconv.Itoa(status))
			}
			span.End()
		}
		if m != nil {
			ctx := context.WithoutCancel(r.Context())
			routeAttr, methodAttr := attribute.String("http.route", route), attribute.String("http.request.method", r.Method)
			m.requests.Add(ctx, 1, metric.WithAttributes(routeAttr, methodAttr, attribute.Int("http.response.status_code", status)))
			m.duration.Record(ctx, time.Since(start).Seconds(), metric.WithAttributes(routeAttr, methodAttr))
		}
	})
}
