package cache

import (
	"context"
	"errors"

	"sync"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.24.0"
)

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
	m := mp.Meter(scopeName)
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

// poolMeters are redisotel's connection instruments (with the semantic
// conventions' counter types, as WithSemConvCompliantMetrics(true) makes
// them), under the SDK's scope: pool statistics observed from each node's
// PoolStats at collection, and the latency histograms otelHook records.
// Each node's attributes are db.system=redis and pool.name, its address.
type poolMeters struct {
	useTime, createTime metric.Float64Histogram

	meter                             metric.Meter
	idleMax, idleMin, connsMax, usage metric.Int64ObservableUpDownCounter
	waitsDuration                     metric.Int64ObservableUpDownCounter
	waits, timeouts, hits, misses     metric.Int64ObservableCounter

	mu     sync.Mutex
	closed bool // done was closed: no more registrations
	regs   []metric.Registration
}

// newPoolMeters makes the instruments; their callbacks end when done is
// closed.
func newPoolMeters(mp metric.MeterProvider, done chan struct{}) (*poolMeters, error) {
	m := mp.Meter(scopeName)
	p := &poolMeters{meter: m}
	var errs [11]error
	p.createTime, errs[0] = m.Float64Histogram("db.client.connections.create_time",
		metric.WithDescription("The time it took to create a new connection."), metric.WithUnit("ms"))
	p.useTime, errs[1] = m.Float64Histogram("db.client.connections.use_time",
		metric.WithDescription("The time between borrowing a connection and returning it to the pool."), metric.WithUnit("ms"))
	p.idleMax, errs[2] = m.Int64ObservableUpDownCounter("db.client.connections.idle.max",
		metric.WithDescription("The maximum number of idle open connections allowed"))
	p.idleMin, errs[3] = m.Int64ObservableUpDownCounter("db.client.connections.idle.min",
		metric.WithDescription("The minimum number of idle open connections allowed"))
	p.connsMax, errs[4] = m.Int64ObservableUpDownCounter("db.client.connections.max",
		metric.WithDescription("The maximum number of open connections allowed"))
	p.usage, errs[5] = m.Int64ObservableUpDownCounter("db.client.connections.usage",
		metric.WithDescription("The number of connections that are currently in state described by the state attribute"))
	p.waits, errs[6] = m.Int64ObservableCounter("db.client.connections.waits",
		metric.WithDescription("The number of times a connection was waited for"))
	p.waitsDuration, errs[7] = m.Int64ObservableUpDownCounter("db.client.connections.waits_duration",
		metric.WithDescription("The total time spent for waiting a connection in nanoseconds"), metric.WithUnit("ns"))
	p.timeouts, errs[8] = m.Int64ObservableCounter("db.client.connections.timeouts",
		metric.WithDescription("The number of connection timeouts that have occurred trying to obtain a connection from the pool"))
	p.hits, errs[9] = m.Int64ObservableCounter("db.client.connections.hits",
		metric.WithDescription("The number of times free connection was found in the pool"))
	p.misses, errs[10] = m.Int64ObservableCounter("db.client.connections.misses",
		metric.WithDescription("The number of times free connection was not found in the pool"))
	if err := errors.Join(errs[:]...); err != nil {
		return nil, invalidf("metrics: %v", err)
	}
	go func() {
		<-done
		p.mu.Lock()
		defer p.mu.Unlock()
		p.closed = true
		for _, r := range p.regs {
			_ = r.Unregister()
		}
		p.regs = nil
	}()
	return p, nil
}

func poolAttrs(addr string, extra ...attribute.KeyValue) attribute.Set {
	return attribute.NewSet(append([]attribute.KeyValue{semconv.DBSystemRedis, attribute.String("pool.name", addr)}, extra...)...)
}

// set is the prebuilt measurement option of a latency of node addr with
// outcome o (redisotel's status and error_type) and the extra attributes.
func (p *poolMeters) set(addr string, o int, extra ...attribute.KeyValue) []metric.RecordOption {
	status, kind := "error", "other"
	switch o {
	case outcomeOK:
		status, kind = "ok", "none"
	case outcomeNil:
		status = "nil"
	case outcomeCanceled:
		kind = "context_canceled"
	case outcomeTimeout:
		kind = "context_timeout"
	}
	extra = append(extra, attribute.String("status", status), attribute.String("error_type", kind))
	return []metric.RecordOption{metric.WithAttributeSet(poolAttrs(addr, extra...))}
}

// register observes node's pool statistics until done is closed. A nil p
// does nothing.
func (p *poolMeters) register(node *redis.Client) {
	if p == nil {
		return
	}
	o := node.Options()
	pool := metric.WithAttributeSet(poolAttrs(o.Addr))
	idle := metric.WithAttributeSet(poolAttrs(o.Addr, attribute.String("state", "idle")))
	used := metric.WithAttributeSet(poolAttrs(o.Addr, attribute.String("state", "used")))
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	r, err := p.meter.RegisterCallback(func(_ context.Context, ob metric.Observer) error {
		s := node.PoolStats()
		ob.ObserveInt64(p.idleMax, int64(o.MaxIdleConns), pool)
		ob.ObserveInt64(p.idleMin, int64(o.MinIdleConns), pool)
		ob.ObserveInt64(p.connsMax, int64(o.PoolSize), pool)
		ob.ObserveInt64(p.usage, int64(s.IdleConns), idle)
		ob.ObserveInt64(p.usage, int64(s.TotalConns-s.IdleConns), used)
		ob.ObserveInt64(p.waits, int64(s.WaitCount), pool)
		ob.ObserveInt64(p.waitsDuration, s.WaitDurationNs, pool)
		ob.ObserveInt64(p.timeouts, int64(s.Timeouts), pool)
		ob.ObserveInt64(p.hits, int64(s.Hits), pool)
		ob.ObserveInt64(p.misses, int64(s.Misses), pool)
		return nil
	}, p.idleMax, p.idleMin, p.connsMax, p.usage, p.waits, p.waitsDuration, p.timeouts, p.hits, p.misses)
	if err == nil {
		p.regs = append(p.regs, r)
	}
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
