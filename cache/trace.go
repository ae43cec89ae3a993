package cache

import (
	"context"
	"strings"

	"github.com/redis/go-redis/extra/redisotel/v9"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/attribute"
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

// instrument wires the observability cfg asks for into rdb, before any
// command runs: redisotel's tracing and metrics hooks, then obsHook inside
// them. Nothing is added when cfg has neither provider.
//
// Tracing uses go-redis's maintained instrumentation, redisotel: one client
// span per command or pipeline (named after the command, e.g. "get",
// "evalsha", "redis.pipeline set expire") with db.system=redis,
// db.connection_string (redis://host:port, never credentials),
// server.address and server.port, plus "redis.dial" spans. The command text
// is never recorded (WithDBStatement(false): it holds keys, values and
// session tokens), nor the caller's file and line (a stack walk per
// command). AUTH and HELLO are not traced at all (redisotel's default
// filter). obsHook adds db.operation and, on failure, the SDK's error kind.
func instrument(rdb redis.UniversalClient, cfg Config, done chan struct{}) (*meters, error) {
	if _, ok := cfg.TracerProvider.(noop.TracerProvider); ok {
		cfg.TracerProvider = nil // never records a span: no hook needed
	}
	if cfg.TracerProvider == nil && cfg.MeterProvider == nil {
		return nil, nil
	}
	h := obsHook{trace: cfg.TracerProvider != nil}
	if cfg.TracerProvider != nil {
		err := redisotel.InstrumentTracing(rdb, redisotel.WithTracerProvider(cfg.TracerProvider),
			redisotel.WithDBStatement(false), redisotel.WithCallerEnabled(false))
		if err != nil {
			return nil, invalidf("tracing: %T cannot be traced", rdb)
		}
	}
	if cfg.MeterProvider != nil {
		if err := instrumentMetrics(rdb, cfg.MeterProvider, done); err != nil {
			return nil, err
		}
		m, err := newMeters(cfg.MeterProvider)
		if err != nil {
			return nil, err
		}
		h.m = m
	}
	// Added after redisotel's hooks, so inside them: the ctx it sees
	// carries redisotel's span.
	if n, ok := rdb.(interface{ OnNewNode(func(*redis.Client)) }); ok {
		n.OnNewNode(func(node *redis.Client) { node.AddHook(h) })
	} else {
		rdb.AddHook(h)
	}
	return h.m, nil
}

// obsHook annotates the span redisotel started for a command (trace) and
// counts failed commands by kind (m).
type obsHook struct {
	trace bool
	m     *meters
}

func (obsHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h obsHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		// redisotel starts no span for a filtered command: ctx's span is
		// then the caller's, not to be touched.
		h.observe(ctx, cmd.FullName(), err, !redisotel.DefaultCommandFilter(cmd))
		return err
	}
}

func (h obsHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		traced := true
		for _, c := range cmds {
			if redisotel.DefaultCommandFilter(c) {
				traced = false
			}
		}
		h.observe(ctx, "pipeline", err, traced)
		return err
	}
}

// observe sets db.operation on the command's span and, for a failure (a
// miss is none), the error kind the SDK reports for err, on the span and
// in the error counter.
func (h obsHook) observe(ctx context.Context, op string, err error, traced bool) {
	// A miss is no failure, nor NOSCRIPT: go-redis's Script.Run meets it
	// on a node that has not cached the script yet and sends EVAL at once.
	failed := err != nil && err != redis.Nil && !strings.HasPrefix(err.Error(), "NOSCRIPT")
	var k string
	if failed {
		k = errkind.Of(wrapErr(ctx, op, err)).String()
		h.m.commandFailed(ctx, op, k)
	}
	if !h.trace || !traced {
		return
	}
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	span.SetAttributes(attrOperation.String(op))
	if failed {
		span.SetAttributes(attrErrorKind.String(k), attrErrorType.String(k))
	}
}
