package cache

import (
	"context"
	"errors"

	"github.com/redis/go-redis/extra/redisotel/v9"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// meterName names the SDK's meter (the OpenTelemetry instrumentation scope).
const meterName = "github.com/HamiGames/lucid-data/cache"

// meters are the SDK's own instruments of a Client (Config.MeterProvider).
// A nil *meters records nothing.
type meters struct {
	cmdErrors  metric.Int64Counter // failed commands by operation and error kind
	decisions  metric.Int64Counter // limiter answers
	obtains    metric.Int64Counter // lock Obtain outcomes
	contention metric.Int64Counter // Obtain attempts that found the lock held
	losses     metric.Int64Counter // leases lost while held
}

func newMeters(mp metric.MeterProvider) (*meters, error) {
	m := mp.Meter(meterName)
	var ms meters
	var errs [5]error
	ms.cmdErrors, errs[0] = m.Int64Counter("lucid.redis.command.errors",
		metric.WithDescription("Redis commands that failed (a miss is no failure), by db.operation and lucid.error.kind."))
	ms.decisions, errs[1] = m.Int64Counter("lucid.cache.limiter.decisions",
		metric.WithDescription("Limiter answers, by decision (admitted, denied) and source (redis; policy: Redis could not answer; invalid: bad arguments)."))
	ms.obtains, errs[2] = m.Int64Counter("lucid.cache.lock.obtains",
		metric.WithDescription("Locker.Obtain outcomes, by result (obtained, not_obtained, error)."))
	ms.contention, errs[3] = m.Int64Counter("lucid.cache.lock.contended",
		metric.WithDescription("Obtain attempts that found the lock held by another owner."))
	ms.losses, errs[4] = m.Int64Counter("lucid.cache.lock.losses",
		metric.WithDescription("Leases lost while held, by cause (expired, taken)."))
	if err := errors.Join(errs[:]...); err != nil {
		return nil, invalidf("metrics: %v", err)
	}
	return &ms, nil
}

// instrumentMetrics adds go-redis's redisotel pool and latency metrics
// (db.client.connections.*, with the semantic conventions' counter types)
// to rdb; their callbacks end when done is closed.
func instrumentMetrics(rdb redis.UniversalClient, mp metric.MeterProvider, done chan struct{}) error {
	if err := redisotel.InstrumentMetrics(rdb, redisotel.WithMeterProvider(mp), redisotel.WithCloseChan(done),
		redisotel.WithSemConvCompliantMetrics(true)); err != nil {
		return invalidf("metrics: %T cannot be measured", rdb)
	}
	return nil
}

func (m *meters) commandFailed(ctx context.Context, op, kind string) {
	if m == nil {
		return
	}
	m.cmdErrors.Add(ctx, 1, metric.WithAttributes(attrOperation.String(op), attrErrorKind.String(kind)))
}

var (
	setAdmittedRedis  = metric.WithAttributeSet(attribute.NewSet(attribute.String("decision", "admitted"), attribute.String("source", "redis")))
	setDeniedRedis    = metric.WithAttributeSet(attribute.NewSet(attribute.String("decision", "denied"), attribute.String("source", "redis")))
	setAdmittedPolicy = metric.WithAttributeSet(attribute.NewSet(attribute.String("decision", "admitted"), attribute.String("source", "policy")))
	setDeniedPolicy   = metric.WithAttributeSet(attribute.NewSet(attribute.String("decision", "denied"), attribute.String("source", "policy")))
	setDeniedInvalid  = metric.WithAttributeSet(attribute.NewSet(attribute.String("decision", "denied"), attribute.String("source", "invalid")))
	setObtained       = metric.WithAttributeSet(attribute.NewSet(attribute.String("result", "obtained")))
	setNotObtained    = metric.WithAttributeSet(attribute.NewSet(attribute.String("result", "not_obtained")))
	setObtainError    = metric.WithAttributeSet(attribute.NewSet(attribute.String("result", "error")))
	setLostExpired    = metric.WithAttributeSet(attribute.NewSet(attribute.String("cause", "expired")))
	setLostTaken      = metric.WithAttributeSet(attribute.NewSet(attribute.String("cause", "taken")))
)

func (m *meters) decision(ctx context.Context, r Result, err error) {
	if m == nil {
		return
	}
	var set metric.MeasurementOption
	switch {
	case err == nil && r.Allowed:
		set = setAdmittedRedis
	case err == nil:
		set = setDeniedRedis
	case errors.Is(err, ErrInvalid):
		set = setDeniedInvalid
	case r.Allowed:
		set = setAdmittedPolicy
	default:
		set = setDeniedPolicy
	}
	m.decisions.Add(ctx, 1, set)
}

func (m *meters) obtained(ctx context.Context, err error) {
	if m == nil {
		return
	}
	switch {
	case err == nil:
		m.obtains.Add(ctx, 1, setObtained)
	case errors.Is(err, ErrLockNotObtained):
		m.obtains.Add(ctx, 1, setNotObtained)
	default:
		m.obtains.Add(ctx, 1, setObtainError)
	}
}

func (m *meters) contended(ctx context.Context) {
	if m != nil {
		m.contention.Add(ctx, 1)
	}
}

func (m *meters) lost(cause error) {
	if m == nil {
		return
	}
	set := setLostExpired
	if errors.Is(cause, ErrLockTaken) {
		set = setLostTaken
	}
	m.losses.Add(context.Background(), 1, set)
}
