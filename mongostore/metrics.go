package mongostore

import (
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/v2/event"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// mongoMeters are the instruments of a DB with Config.MeterProvider. A nil
// *mongoMeters records nothing.
type mongoMeters struct {
	duration  metric.Float64Histogram   // command round trips
	errors    metric.Int64Counter       // failed commands by kind
	conns     metric.Int64UpDownCounter // open pooled connections
	inUse     metric.Int64UpDownCounter // connections checked out
	checkouts metric.Int64Counter       // checkout attempts by result
}

func newMongoMeters(mp metric.MeterProvider) (*mongoMeters, error) {
	m := mp.Meter(instrumentation)
	var ms mongoMeters
	var errs [5]error
	ms.duration, errs[0] = m.Float64Histogram("lucid.mongo.command.duration", metric.WithUnit("s"),
		metric.WithDescription("Round trip of one command the driver sent, by db.operation."),
		metric.WithExplicitBucketBoundaries(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
	ms.errors, errs[1] = m.Int64Counter("lucid.mongo.command.errors",
		metric.WithDescription("Commands that failed or reported write errors, by db.operation and lucid.error.kind."))
	ms.conns, errs[2] = m.Int64UpDownCounter("lucid.mongo.pool.connections",
		metric.WithDescription("Open connections of the driver's pools, by server.address."))
	ms.inUse, errs[3] = m.Int64UpDownCounter("lucid.mongo.pool.connections.in_use",
		metric.WithDescription("Connections checked out of the driver's pools, by server.address."))
	ms.checkouts, errs[4] = m.Int64Counter("lucid.mongo.pool.checkouts",
		metric.WithDescription("Connection checkouts, by server.address and result (ok, timeout, pool_closed, connection_error)."))
	if err := errors.Join(errs[:]...); err != nil {
		return nil, &Error{Kind: ErrInvalid, Op: "connect", Msg: "metrics: " + err.Error()}
	}
	return &ms, nil
}

func (m *mongoMeters) command(ctx context.Context, op string, seconds float64, kind string) {
	if m == nil {
		return
	}
	opAttr := keyOperation.String(op)
	m.duration.Record(ctx, seconds, metric.WithAttributes(opAttr))
	if kind != "" {
		m.errors.Add(ctx, 1, metric.WithAttributes(opAttr, keyErrorKind.String(kind)))
	}
}

// poolMonitor turns the driver's pool events into the pool instruments.
func (m *mongoMeters) poolMonitor() *event.PoolMonitor {
	return &event.PoolMonitor{Event: func(e *event.PoolEvent) {
		ctx := context.Background()
		addr := metric.WithAttributes(keyServerAddr.String(e.Address))
		switch e.Type {
		case event.ConnectionCreated:
			m.conns.Add(ctx, 1, addr)
		case event.ConnectionClosed:
			m.conns.Add(ctx, -1, addr)
		case event.ConnectionCheckedOut:
			m.inUse.Add(ctx, 1, addr)
			m.checkouts.Add(ctx, 1, metric.WithAttributes(keyServerAddr.String(e.Address), attribute.String("result", "ok")))
		case event.ConnectionCheckedIn:
			m.inUse.Add(ctx, -1, addr)
		case event.ConnectionCheckOutFailed:
			result := "connection_error"
			switch e.Reason {
			case event.ReasonTimedOut:
				result = "timeout"
			case event.ReasonPoolClosed:
				result = "pool_closed"
			}
			m.checkouts.Add(ctx, 1, metric.WithAttributes(keyServerAddr.String(e.Address), attribute.String("result", result)))
		}
	}}
}
