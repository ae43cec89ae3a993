package mongostore

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/HamiGames/lucid-data/errkind"
)

// instrumentation names the tracer (the OpenTelemetry instrumentation scope).
const instrumentation = "github.com/HamiGames/lucid-data/mongostore"

// Span attributes (OpenTelemetry database semantic conventions v1.24, the
// version go-redis's redisotel uses, plus the SDK's error kind).
var (
	attrSystem     = attribute.String("db.system", "mongodb")
	keyDBName      = attribute.Key("db.name")
	keyOperation   = attribute.Key("db.operation")
	keyCollection  = attribute.Key("db.mongodb.collection")
	keyServerAddr  = attribute.Key("server.address")
	keyServerPort  = attribute.Key("server.port")
	keyErrorKind   = attribute.Key("lucid.error.kind")
	keyErrorType   = attribute.Key("error.type")
	keyWriteErrors = attribute.Key("db.mongodb.write_errors")
)

// quietCommands are never traced: the handshake's authentication steps
// (the driver already blanks their bodies in events).
var quietCommands = map[string]bool{
	"saslStart": true, "saslContinue": true, "authenticate": true, "getnonce": true,
	"hello": true, "isMaster": true, "ismaster": true,
}

// commandTracer turns the driver's command events into client spans: the
// driver's own monitoring hook (event.CommandMonitor), since the
// OpenTelemetry contrib otelmongo instruments only driver v1. Each span is
// named "<command> <collection>" (e.g. "insert users") and carries
// db.system, db.name, db.operation, db.mongodb.collection, server.address
// and server.port; never the command or reply documents, whose values
// (documents, filters, session tokens) stay out of traces. A failed
// command, or one whose reply reports write errors (a duplicate key is a
// successful insert command with writeErrors), gets status Error with the
// SDK's error kind as its description and in lucid.error.kind and
// error.type; the server's message, which may quote a key's value, is not
// recorded.
//
// The same monitor feeds the command instruments when Config.MeterProvider
// is set (m); tracer is nil when only metrics are wanted.
type commandTracer struct {
	d      *DB
	tracer trace.Tracer // nil: no spans
	m      *mongoMeters // nil: no metrics

	mu    sync.Mutex
	spans map[spanKey]inflight
}

type spanKey struct {
	conn string
	req  int64
}

type inflight struct {
	span     trace.Span
	op, coll string
}

func newCommandTracer(d *DB, tp trace.TracerProvider, m *mongoMeters) *commandTracer {
	t := &commandTracer{d: d, m: m, spans: map[spanKey]inflight{}}
	if tp != nil {
		t.tracer = tp.Tracer(instrumentation)
	}
	return t
}

func (t *commandTracer) monitor() *event.CommandMonitor {
	return &event.CommandMonitor{Started: t.started, Succeeded: t.succeeded, Failed: t.failed}
}

func (t *commandTracer) started(ctx context.Context, e *event.CommandStartedEvent) {
	if quietCommands[e.CommandName] || t.tracer == nil {
		return
	}
	coll := collectionOf(e.CommandName, e.Command)
	name := e.CommandName
	if coll != "" {
		name += " " + coll
	}
	attrs := make([]attribute.KeyValue, 0, 6)
	attrs = append(attrs, attrSystem, keyDBName.String(e.DatabaseName), keyOperation.String(e.CommandName))
	if coll != "" {
		attrs = append(attrs, keyCollection.String(coll))
	}
	if host, port, ok := serverOf(e.ConnectionID); ok {
		attrs = append(attrs, keyServerAddr.String(host), keyServerPort.Int(port))
	}
	_, span := t.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	t.mu.Lock()
	t.spans[spanKey{e.ConnectionID, e.RequestID}] = inflight{span: span, op: e.CommandName, coll: coll}
	t.mu.Unlock()
}

func (t *commandTracer) take(e event.CommandFinishedEvent) (inflight, bool) {
	k := spanKey{e.ConnectionID, e.RequestID}
	t.mu.Lock()
	f, ok := t.spans[k]
	delete(t.spans, k)
	t.mu.Unlock()
	return f, ok
}

func (t *commandTracer) succeeded(ctx context.Context, e *event.CommandSucceededEvent) {
	if quietCommands[e.CommandName] {
		return
	}
	f, traced := t.take(e.CommandFinishedEvent)
	var kind string
	if we, err := e.Reply.LookupErr("writeErrors"); err == nil {
		if arr, ok := we.ArrayOK(); ok {
			vals, _ := arr.Values()
			var code int64
			if len(vals) > 0 {
				if doc, ok := vals[0].DocumentOK(); ok {
					if c, err := doc.LookupErr("code"); err == nil {
						code, _ = c.AsInt64OK()
					}
				}
			}
			werr := mongo.WriteException{WriteErrors: []mongo.WriteError{{Code: int(code)}}}
			kind = kindOf(t.d.mapErr(ctx, e.CommandName, f.coll, werr))
			if traced {
				f.span.SetAttributes(keyWriteErrors.Int(len(vals)))
			}
		}
	}
	t.m.command(ctx, e.CommandName, e.Duration.Seconds(), kind)
	if traced {
		setKind(f.span, kind)
		f.span.End()
	}
}

func (t *commandTracer) failed(ctx context.Context, e *event.CommandFailedEvent) {
	if quietCommands[e.CommandName] {
		return
	}
	f, traced := t.take(e.CommandFinishedEvent)
	err := e.Failure
	// The event carries the driver's internal error; the SDK maps the
	// public one the operation returns, which keeps its code and labels.
	var de driver.Error
	if errors.As(err, &de) {
		err = mongo.CommandError{Code: de.Code, Message: de.Message, Labels: de.Labels, Name: de.Name, Wrapped: de.Wrapped}
	}
	kind := kindOf(t.d.mapErr(ctx, e.CommandName, f.coll, err))
	t.m.command(ctx, e.CommandName, e.Duration.Seconds(), kind)
	if traced {
		setKind(f.span, kind)
		f.span.End()
	}
}

// kindOf is the name of err's errkind, "" for none.
func kindOf(err error) string {
	if k := errkind.Of(err); k != errkind.OK {
		return k.String()
	}
	return ""
}

func setKind(span trace.Span, kind string) {
	if kind == "" {
		return
	}
	span.SetAttributes(keyErrorKind.String(kind), keyErrorType.String(kind))
	span.SetStatus(codes.Error, kind)
}

// collectionOf returns the collection a command names: the value of its
// first element for the CRUD, index and collection commands, the
// "collection" field of getMore; "" for database and admin commands.
func collectionOf(name string, cmd bson.Raw) string {
	if name == "getMore" {
		if v, err := cmd.LookupErr("collection"); err == nil {
			s, _ := v.StringValueOK()
			return s
		}
		return ""
	}
	el, err := cmd.IndexErr(0)
	if err != nil {
		return ""
	}
	s, ok := el.Value().StringValueOK()
	if !ok || el.Key() != name {
		return ""
	}
	return s
}

// serverOf splits the driver's connection ID, "host:port[-n]".
func serverOf(connID string) (string, int, bool) {
	if i := strings.IndexByte(connID, '['); i >= 0 {
		connID = connID[:i]
	}
	host, p, err := net.SplitHostPort(connID)
	if err != nil {
		return "", 0, false
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return "", 0, false
	}
	return host, port, true
}
