package cache

import (
	"context"

	"github.com/redis/go-redis/extra/redisotel/v9"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/HamiGames/lucid-data/errkind"
)

// Span attributes the SDK adds to go-redis's spans (and mongostore to its
// own): the SDK's error kind of a failed operation, as errkind names it.
const (
	attrErrorKind = attribute.Key("lucid.error.kind")
	attrErrorType = attribute.Key("error.type")
	attrOperation = attribute.Key("db.operation")
)

// instrumentTracing traces rdb's commands with go-redis's maintained
// instrumentation, redisotel: one client span per command or pipeline
// (named after the command, e.g. "get", "evalsha", "redis.pipeline set
// expire") with db.system=redis, db.connection_string (redis://host:port,
// never credentials), server.address and server.port, plus "redis.dial"
// spans. The command text is never recorded (WithDBStatement(false): it
// holds keys, values and session tokens), nor the caller's file and line
// (a stack walk per command). AUTH and HELLO are not traced at all
// (redisotel's default filter). kindHook then adds db.operation and, on
// failure, the SDK's error kind.
func instrumentTracing(rdb redis.UniversalClient, tp trace.TracerProvider) error {
	err := redisotel.InstrumentTracing(rdb, redisotel.WithTracerProvider(tp),
		redisotel.WithDBStatement(false), redisotel.WithCallerEnabled(false))
	if err != nil {
		return invalidf("tracing: %T cannot be traced", rdb)
	}
	// Added after redisotel's hook, so inside it: the ctx it sees carries
	// redisotel's span.
	if n, ok := rdb.(interface{ OnNewNode(func(*redis.Client)) }); ok {
		n.OnNewNode(func(node *redis.Client) { node.AddHook(kindHook{}) })
		return nil
	}
	rdb.AddHook(kindHook{})
	return nil
}

// kindHook annotates the span redisotel started for a command.
type kindHook struct{}

func (kindHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (kindHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if redisotel.DefaultCommandFilter(cmd) {
			return err // redisotel started no span: ctx's is the caller's
		}
		annotate(ctx, cmd.FullName(), err)
		return err
	}
}

func (kindHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		for _, c := range cmds {
			if redisotel.DefaultCommandFilter(c) {
				return err
			}
		}
		annotate(ctx, "pipeline", err)
		return err
	}
}

// annotate sets db.operation and, for a failure (a miss is none), the
// error kind the SDK reports for err.
func annotate(ctx context.Context, op string, err error) {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	span.SetAttributes(attrOperation.String(op))
	if err == nil || err == redis.Nil {
		return
	}
	k := errkind.Of(wrapErr(ctx, op, err)).String()
	span.SetAttributes(attrErrorKind.String(k), attrErrorType.String(k))
}
