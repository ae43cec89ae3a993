package search

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/metric"
)

// searchMeters are the instruments of a Client with Config.MeterProvider.
// A nil *searchMeters records nothing.
type searchMeters struct {
	duration metric.Float64Histogram // SDK requests, retries included
	errors   metric.Int64Counter     // failed requests by kind
	queued   metric.Int64Counter     // bulk items accepted by Add
	indexed  metric.Int64Counter     // bulk items settled with OnSuccess
	retried  metric.Int64Counter     // bulk item re-sends
	failed   metric.Int64Counter     // bulk items settled with OnFailure
	pool     *poolMeters             // the HTTP transport's connections
}

func newSearchMeters(mp metric.MeterProvider) (*searchMeters, error) {
	m := mp.Meter(instrumentation)
	var ms searchMeters
	var errs [6]error
	ms.duration, errs[0] = m.Float64Histogram("lucid.search.request.duration", metric.WithUnit("s"),
		metric.WithDescription("One request the SDK sent, its retries included, by db.operation."),
		metric.WithExplicitBucketBoundaries(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
	ms.errors, errs[1] = m.Int64Counter("lucid.search.request.errors",
		metric.WithDescription("Requests that failed, by db.operation and lucid.error.kind."))
	ms.queued, errs[2] = m.Int64Counter("lucid.search.bulk.queued",
		metric.WithDescription("Items BulkIndexer.Add accepted."))
	ms.indexed, errs[3] = m.Int64Counter("lucid.search.bulk.indexed",
		metric.WithDescription("Bulk items the engine applied (settled with OnSuccess)."))
	ms.retried, errs[4] = m.Int64Counter("lucid.search.bulk.retried",
		metric.WithDescription("Bulk item re-sends after a 429 or 503 answer or a failed request."))
	ms.failed, errs[5] = m.Int64Counter("lucid.search.bulk.failed",
		metric.WithDescription("Bulk items settled with OnFailure (rejected, out of attempts, or abandoned by Close)."))
	if err := errors.Join(errs[:]...); err != nil {
		return nil, &Error{Op: "connect", kind: ErrInvalid, Reason: "metrics: " + err.Error()}
	}
	return &ms, nil
}

// request records one request of op; kind is its error kind, "" for none.
func (m *searchMeters) request(ctx context.Context, op string, seconds float64, kind string) {
	if m == nil {
		return
	}
	opAttr := keyOperation.String(op)
	m.duration.Record(ctx, seconds, metric.WithAttributes(opAttr))
	if kind != "" {
		m.errors.Add(ctx, 1, metric.WithAttributes(opAttr, keyErrorKind.String(kind)))
	}
}

// bulkCount names one of the bulk counters.
type bulkCount int

const (
	bulkQueued bulkCount = iota
	bulkIndexed
	bulkRetried
	bulkFailed
)

// bulk adds n to the bulk counter which.
func (m *searchMeters) bulk(which bulkCount, n int) {
	if m == nil || n == 0 {
		return
	}
	[...]metric.Int64Counter{m.queued, m.indexed, m.retried, m.failed}[which].Add(context.Background(), int64(n))
}

// meters returns c's instruments, nil without Config.MeterProvider.
func (c *Client) meters() *searchMeters {
	if c.obs == nil {
		return nil
	}
	return c.obs.m
}
