package embedded

import (
	"context"
	"log/slog"
	"strings"
)

// ferretHandler sits between FerretDB and Config.Logger. FerretDB v1 logs,
// per connection, a dump of every request and response, and the dump of a
// response that carries an error at WARN: each probe mongostore makes for a
// feature FerretDB lacks (validators, TTL and text indexes, transactions)
// and every endSessions the driver sends would reach the caller as a
// multi-line warning about nothing wrong. Its SQLite backend logs every
// statement with its arguments, which hold whole documents. So:
//
//   - records of a connection's logger (FerretDB names it "// client ->
//     server") are logged at DEBUG whatever level FerretDB gave them, and
//     the message dumps themselves ("Request message:", "Response
//     message:"), which hold document bodies, are dropped;
//   - the args attribute (a SQL statement's arguments) is dropped, the
//     statement stays;
//   - everything else (listener start and stop, connections, real backend
//     errors) passes through unchanged.
type ferretHandler struct {
	next slog.Handler
	wire bool // a connection's logger
}

func (h *ferretHandler) Enabled(ctx context.Context, l slog.Level) bool {
	if h.wire {
		l = slog.LevelDebug
	}
	return h.next.Enabled(ctx, l)
}

func (h *ferretHandler) Handle(ctx context.Context, r slog.Record) error {
	switch {
	case h.wire:
		if strings.HasPrefix(r.Message, "Request message") || strings.HasPrefix(r.Message, "Response message") {
			return nil
		}
		r.Level = slog.LevelDebug
	case hasArgs(r):
		nr := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
		r.Attrs(func(a slog.Attr) bool {
			if a.Key != "args" {
				nr.AddAttrs(a)
			}
			return true
		})
		r = nr
	}
	if !h.next.Enabled(ctx, r.Level) {
		return nil
	}
	return h.next.Handle(ctx, r)
}

func hasArgs(r slog.Record) (found bool) {
	r.Attrs(func(a slog.Attr) bool {
		found = a.Key == "args"
		return !found
	})
	return found
}

// WithAttrs drops args (FerretDB's SQL layer adds a statement's arguments
// with Logger.With) and notes a connection's logger.
func (h *ferretHandler) WithAttrs(as []slog.Attr) slog.Handler {
	wire := h.wire
	kept := as[:0:0]
	for _, a := range as {
		switch {
		case a.Key == "args":
			continue
		case a.Key == "name" && strings.HasPrefix(a.Value.String(), "// "):
			wire = true
		}
		kept = append(kept, a)
	}
	return &ferretHandler{next: h.next.WithAttrs(kept), wire: wire}
}

func (h *ferretHandler) WithGroup(name string) slog.Handler {
	return &ferretHandler{next: h.next.WithGroup(name), wire: h.wire}
}
