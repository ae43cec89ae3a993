package search

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/HamiGames/lucid-data/errkind"
)

// instrumentation names the tracer and the meter (the OpenTelemetry
// instrumentation scope).
const instrumentation = "github.com/HamiGames/lucid-data/search"

// Span attributes (OpenTelemetry database semantic conventions v1.24, the
// version mongostore and go-redis's redisotel use, plus the SDK's error
// kind).
const (
	keySystem     = attribute.Key("db.system")
	keyOperation  = attribute.Key("db.operation")
	keyIndex      = attribute.Key("db.elasticsearch.path_parts.index")
	keyName       = attribute.Key("db.elasticsearch.path_parts.name")
	keyServerAddr = attribute.Key("server.address")
	keyServerPort = attribute.Key("server.port")
	keyErrorKind  = attribute.Key("lucid.error.kind")
	keyErrorType  = attribute.Key("error.type")
)

// namedOps are the operations whose name argument is a template or a
// lifecycle policy rather than an index.
var namedOps = map[string]bool{
	"put template": true, "delete template": true,
	"put ilm policy": true, "get ism policy": true, "put ism policy": true,
}

// observer is what Config.TracerProvider and Config.MeterProvider add to a
// Client. A nil *observer costs one pointer test per request.
//
// Why not elastictransport's Instrumentation hook: esapi only calls it for
// requests built through its functional API (esapi.New(t).Search(...)),
// not for the request structs the SDK sends, nor for the SDK's own raw
// requests; it names the system "elasticsearch" for OpenSearch too and
// records url.full (with the query string) and, on request, the query
// body. The SDK's request path (Client.callStatus) knows the operation and
// the index instead, and the round-trip logger elastictransport calls per
// attempt (slogLogger) knows the node: together they give one client span
// per SDK request, retries included, with nothing of the request body.
type observer struct {
	tracer trace.Tracer  // nil: no spans
	m      *searchMeters // nil: no metrics
}

// newObserver returns nil when neither provider would record anything.
func newObserver(tp trace.TracerProvider, mp metric.MeterProvider) (*observer, error) {
	if _, ok := tp.(noop.TracerProvider); ok {
		tp = nil // never records a span: no span to start
	}
	if _, ok := mp.(metricnoop.MeterProvider); ok {
		mp = nil // no-op instruments: nothing to measure
	}
	if tp == nil && mp == nil {
		return nil, nil
	}
	o := &observer{}
	if tp != nil {
		o.tracer = tp.Tracer(instrumentation)
	}
	if mp != nil {
		m, err := newSearchMeters(mp)
		if err != nil {
			return nil, err
		}
		o.m = m
	}
	return o, nil
}

// request is one SDK request being observed.
type request struct {
	o     *observer
	op    string
	span  trace.Span // nil without a tracer
	start time.Time
}

// begin starts observing op on indices (a name, a pattern or a comma list;
// "" for none) and returns the ctx the request is sent under, which carries
// its span.
func (o *observer) begin(ctx context.Context, c *Client, op, indices string) (context.Context, *request) {
	r := &request{o: o, op: op, start: time.Now()}
	if o.tracer == nil {
		return ctx, r
	}
	attrs := make([]attribute.KeyValue, 0, 3)
	attrs = append(attrs, keyOperation.String(op))
	if c.product != "" {
		attrs = append(attrs, keySystem.String(string(c.product)))
	}
	name := op
	if indices != "" {
		name += " " + indices
		if namedOps[op] {
			attrs = append(attrs, keyName.String(indices))
		} else {
			attrs = append(attrs, keyIndex.String(indices))
		}
	}
	ctx, r.span = o.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	return context.WithValue(ctx, spanKey{}, r.span), r
}

// spanKey marks the ctx of a request the SDK traces, whose span roundTrip
// may annotate: a request sent through Transport() carries the caller's
// span, which is not the SDK's to touch.
type spanKey struct{}

// end records the outcome of the request: err is the error the SDK returns
// for it (nil for success), whose kind goes on the span and in the error
// counter; the engine's message, which may quote a document or a query,
// does not.
func (r *request) end(ctx context.Context, err error) {
	var kind string
	if err != nil {
		kind = errkind.Of(err).String()
	}
	r.o.m.request(ctx, r.op, time.Since(r.start).Seconds(), kind)
	if r.span == nil {
		return
	}
	if kind != "" {
		r.span.SetAttributes(keyErrorKind.String(kind), keyErrorType.String(kind))
		r.span.SetStatus(codes.Error, kind)
	}
	r.span.End()
}

// roundTrip annotates the span of the request req belongs to with the node
// elastictransport sent this attempt to (the last attempt's node wins) and
// the attempt count, and, before Connect has detected the product, the
// product the answer names.
func roundTrip(c *Client, req *http.Request, res *http.Response) {
	span, ok := req.Context().Value(spanKey{}).(trace.Span)
	if !ok || !span.IsRecording() {
		return
	}
	attrs := make([]attribute.KeyValue, 0, 4)
	if h := req.URL.Hostname(); h != "" {
		attrs = append(attrs, keyServerAddr.String(h))
		if p, err := strconv.Atoi(req.URL.Port()); err == nil {
			attrs = append(attrs, keyServerPort.Int(p))
		} else if req.URL.Scheme == "https" {
			attrs = append(attrs, keyServerPort.Int(443))
		} else {
			attrs = append(attrs, keyServerPort.Int(80))
		}
	}
	if c.product == "" && res != nil && res.StatusCode != 0 {
		// GET / during Connect: a genuine Elasticsearch 8 names itself in
		// this header, OpenSearch sends none.
		p := ProductOpenSearch
		if res.Header.Get("X-Elastic-Product") == "Elasticsearch" {
			p = ProductElasticsearch
		}
		attrs = append(attrs, keySystem.String(string(p)))
	}
	span.SetAttributes(attrs...)
}
