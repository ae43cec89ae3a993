package cache

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/extra/redisotel/v9"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	semconv "go.opentelemetry.io/otel/semconv/v1.24.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/HamiGames/lucid-data/errkind"
)

// Span attributes the SDK adds to go-redis's spans (and mongostore to its
// own): the SDK's error kind of a failed operation, as errkind names it.
const (
	attrErrorKind = attribute.Key("lucid.error.kind")
	attrErrorType = attribute.Key("error.type")
	attrOperation = attribute.Key("db.operation")
)

// scopeName names the SDK's tracer and meter (the OpenTelemetry
// instrumentation scope).
const scopeName = "github.com/HamiGames/lucid-data/cache"

// instrument wires the observability cfg asks for into rdb, before any
// command runs: one otelHook per node. Nothing is added when cfg has
// neither provider.
//
// The spans and instruments are redisotel's (go-redis's maintained
// instrumentation, which this package used until its per-command cost
// showed in the paired benchmark, README "Performance"): one client span
// per command or pipeline named after the command ("get", "evalsha",
// "redis.pipeline set expire"), with db.system=redis,
// db.connection_string (redis://host:port, never credentials),
// server.address and server.port, plus "redis.dial" spans; the
// db.client.connections.* pool instruments and the use_time and
// create_time histograms, with redisotel's attributes. The command text is
// never recorded (it holds keys, values and session tokens), nor the
// caller's file and line. AUTH and HELLO are not traced at all
// (redisotel's DefaultCommandFilter). The SDK adds db.operation and, on
// failure, its error kind.
//
// redisotel builds its attribute slices and sets per command, formats a
// pipeline's full text only to name its span, and its tracing and metrics
// hooks each wrap every command; otelHook precomputes all of that per
// node and is one hook.
func instrument(rdb redis.UniversalClient, cfg Config, done chan struct{}) (*meters, error) {
	if _, ok := cfg.TracerProvider.(noop.TracerProvider); ok {
		cfg.TracerProvider = nil // never records a span: no hook needed
	}
	if _, ok := cfg.MeterProvider.(metricnoop.MeterProvider); ok {
		cfg.MeterProvider = nil // never measures: no hook, no pool callbacks
	}
	if cfg.TracerProvider == nil && cfg.MeterProvider == nil {
		return nil, nil
	}
	var tracer trace.Tracer
	if cfg.TracerProvider != nil {
		tracer = cfg.TracerProvider.Tracer(scopeName, trace.WithInstrumentationVersion("semver:"+redis.Version()))
	}
	var m *meters
	var pool *poolMeters
	if cfg.MeterProvider != nil {
		var err error
		if m, err = newMeters(cfg.MeterProvider); err != nil {
			return nil, err
		}
		if pool, err = newPoolMeters(cfg.MeterProvider, done); err != nil {
			return nil, err
		}
	}
	add := func(node *redis.Client) {
		node.AddHook(newOTelHook(node.Options(), tracer, m, pool))
		pool.register(node)
	}
	switch r := rdb.(type) {
	case *redis.Client:
		add(r)
	case interface{ OnNewNode(func(*redis.Client)) }:
		r.OnNewNode(add)
	default:
		return nil, invalidf("observability: %T cannot be instrumented", rdb)
	}
	return m, nil
}

// Outcomes of a command, as redisotel's metric attributes tell them
// (status, error_type).
const (
	outcomeOK       = iota // ok, none
	outcomeNil             // nil, other: a miss
	outcomeCanceled        // error, context_canceled
	outcomeTimeout         // error, context_timeout
	outcomeOther           // error, other
	outcomes
)

func outcome(err error) int {
	switch {
	case err == nil:
		return outcomeOK
	case err == redis.Nil:
		return outcomeNil
	case errors.Is(err, context.Canceled):
		return outcomeCanceled
	case errors.Is(err, context.DeadlineExceeded):
		return outcomeTimeout
	default:
		return outcomeOther
	}
}

// maxOps bounds otelHook.ops: the SDK sends a few dozen distinct commands,
// a caller of Client.Redis could send any.
const maxOps = 512

// otelHook traces (tracer) and measures (m, use) the commands of one
// node. Everything a command's span and measurements carry but its name
// is built once here, so a command that is not sampled costs the tracer's
// Start and a clock read or two, and a measured one a Record with a
// prebuilt attribute set.
type otelHook struct {
	tracer   trace.Tracer            // nil: no spans
	attrs    []attribute.KeyValue    // the node's
	dialOpts []trace.SpanStartOption // client kind, attrs
	ops      sync.Map                // op name -> []trace.SpanStartOption: client kind, attrs and db.operation
	nops     atomic.Int32

	m      *meters                            // the SDK's counters; nil: none
	pool   *poolMeters                        // nil: no latency histograms
	use    [2][outcomes][]metric.RecordOption // by command/pipeline and outcome
	create [outcomes][]metric.RecordOption
}

func newOTelHook(o *redis.Options, tracer trace.Tracer, m *meters, pool *poolMeters) *otelHook {
	h := &otelHook{tracer: tracer, m: m, pool: pool}
	if tracer != nil {
		attrs := []attribute.KeyValue{semconv.DBSystemRedis}
		if host, port, err := net.SplitHostPort(o.Addr); err == nil {
			attrs = append(attrs, semconv.ServerAddress(host))
			if p, err := strconv.Atoi(port); err == nil {
				attrs = append(attrs, semconv.ServerPort(p))
			}
		}
		network := o.Network
		if network == "tcp" {
			network = "redis"
		}
		attrs = append(attrs, semconv.DBConnectionString(network+"://"+o.Addr))
		h.attrs = attrs
		h.dialOpts = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...)}
	}
	if pool != nil {
		for i := range outcomes {
			h.use[0][i] = pool.set(o.Addr, i, attribute.String("type", "command"))
			h.use[1][i] = pool.set(o.Addr, i, attribute.String("type", "pipeline"))
			h.create[i] = pool.set(o.Addr, i)
		}
	}
	return h
}

// startOpts are the span start options of an op: the node's attributes and
// db.operation, all passed to Start so that a sampler sees them, in one
// WithAttributes (the tracer copies each option's attributes, growing its
// slice per option).
func (h *otelHook) startOpts(op string) []trace.SpanStartOption {
	if o, ok := h.ops.Load(op); ok {
		return o.([]trace.SpanStartOption)
	}
	attrs := append(h.attrs[:len(h.attrs):len(h.attrs)], attrOperation.String(op))
	o := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...)}
	if h.nops.Load() < maxOps {
		if _, loaded := h.ops.LoadOrStore(op, o); !loaded {
			h.nops.Add(1)
		}
	}
	return o
}

func (h *otelHook) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		var span trace.Span
		if h.tracer != nil {
			ctx, span = h.tracer.Start(ctx, "redis.dial", h.dialOpts...)
			defer span.End()
		}
		start := time.Now()
		conn, err := next(ctx, network, addr)
		if h.pool != nil {
			h.pool.createTime.Record(ctx, milliseconds(time.Since(start)), h.create[outcome(err)]...)
		}
		if span != nil && err != nil {
			recordError(span, err)
		}
		return conn, err
	}
}

func (h *otelHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		op := cmd.FullName()
		var span trace.Span
		if h.tracer != nil && !redisotel.DefaultCommandFilter(cmd) {
			ctx, span = h.tracer.Start(ctx, op, h.startOpts(op)...)
		}
		var start time.Time
		if h.pool != nil {
			start = time.Now()
		}
		err := next(ctx, cmd)
		h.done(ctx, span, start, 0, op, err)
		return err
	}
}

func (h *otelHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		var span trace.Span
		if h.tracer != nil && !filtered(cmds) {
			ctx, span = h.tracer.Start(ctx, "redis.pipeline "+summary(cmds), h.startOpts("pipeline")...)
			if span.IsRecording() {
				span.SetAttributes(attribute.Int("db.redis.num_cmd", len(cmds)))
			}
		}
		var start time.Time
		if h.pool != nil {
			start = time.Now()
		}
		err := next(ctx, cmds)
		h.done(ctx, span, start, 1, "pipeline", err)
		return err
	}
}

// done records a command's (typ 0) or pipeline's (1) latency, counts its
// failure by the error kind the SDK reports for err (a miss is none, nor
// NOSCRIPT: go-redis's Script.Run meets it on a node that has not cached
// the script yet and sends EVAL at once), puts the error on span, and
// ends span (nil when not traced).
func (h *otelHook) done(ctx context.Context, span trace.Span, start time.Time, typ int, op string, err error) {
	if h.pool != nil {
		h.pool.useTime.Record(ctx, milliseconds(time.Since(start)), h.use[typ][outcome(err)]...)
	}
	if err != nil && err != redis.Nil {
		if span != nil && span.IsRecording() {
			recordError(span, err) // redisotel's, NOSCRIPT included
		}
		h.failed(ctx, span, op, err)
	}
	if span != nil {
		span.End()
	}
}

func (h *otelHook) failed(ctx context.Context, span trace.Span, op string, err error) {
	recording := span != nil && span.IsRecording()
	if h.m == nil && !recording || strings.HasPrefix(err.Error(), "NOSCRIPT") {
		return
	}
	k := errkind.Of(wrapErr(ctx, op, err)).String()
	h.m.commandFailed(ctx, op, k)
	if recording {
		span.SetAttributes(attrErrorKind.String(k), attrErrorType.String(k))
	}
}

// recordError is redisotel's: the error as an event and the span's status.
func recordError(span trace.Span, err error) {
	span.RecordError(err)
	span.SetStatus(codes.Error, err.Error())
}

// filtered is redisotel's default pipeline filter: a pipeline holding a
// filtered command (AUTH, HELLO with AUTH) is not traced.
func filtered(cmds []redis.Cmder) bool {
	for _, c := range cmds {
		if redisotel.DefaultCommandFilter(c) {
			return true
		}
	}
	return false
}

// summary names a pipeline as redisotel does: its first 10 distinct
// command names, in order.
func summary(cmds []redis.Cmder) string {
	const limit = 10
	var names [limit]string
	n := 0
	var b strings.Builder
next:
	for _, c := range cmds {
		name := c.FullName()
		for _, s := range names[:n] {
			if s == name {
				continue next
			}
		}
		if n > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(name)
		names[n] = name
		if n++; n == limit {
			break
		}
	}
	return b.String()
}

func milliseconds(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
