//go:build linux && !lucidfuzz

package embedded_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/HamiGames/lucid-data/internal/stderrcap"
	"github.com/HamiGames/lucid-data/mongostore/embedded"
)

// records keeps every record, formatted "LEVEL msg k=v ...".
type records struct {
	mu    *sync.Mutex
	lines *[]string
	attrs []slog.Attr
}

func newRecords() records { return records{mu: &sync.Mutex{}, lines: new([]string)} }

func (h records) Enabled(context.Context, slog.Level) bool { return true }
func (h records) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", r.Level, r.Message)
	for _, a := range h.attrs {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
	}
	r.Attrs(func(a slog.Attr) bool { fmt.Fprintf(&b, " %s=%v", a.Key, a.Value); return true })
	h.mu.Lock()
	*h.lines = append(*h.lines, b.String())
	h.mu.Unlock()
	return nil
}
func (h records) WithAttrs(as []slog.Attr) slog.Handler {
	h.attrs = append(append([]slog.Attr(nil), h.attrs...), as...)
	return h
}
func (h records) WithGroup(string) slog.Handler { return h }
func (h records) get() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), *h.lines...)
}

// TestLogsSane runs what mongostore's feature probes send (collMod with a
// validator, a text index) and a document holding a secret: FerretDB's
// records reach Config.Logger, none at WARN or above for those error
// replies, none holding the document's values, and nothing reaches stderr.
// Before, each error reply was a multi-line WARN dump and every document
// was dumped at DEBUG.
func TestLogsSane(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	stop := stderrcap.Capture(t)

	h := newRecords()
	s, err := embedded.Start(ctx, embedded.Config{Logger: slog.New(h)})
	if err != nil {
		t.Fatal(err)
	}
	c := connect(t, s.URI())
	db := c.Database("logs")
	const secret = "topsecret-doc-value-17"
	if _, err := db.Collection("a").InsertOne(ctx, bson.D{{Key: "password", Value: secret}}); err != nil {
		t.Fatal(err)
	}
	if err := db.RunCommand(ctx, bson.D{{Key: "collMod", Value: "a"}, {Key: "validator", Value: bson.D{{Key: "x", Value: 1}}}}).Err(); err == nil {
		t.Log("collMod accepted: this FerretDB has validators")
	}
	_ = db.RunCommand(ctx, bson.D{{Key: "createIndexes", Value: "a"},
		{Key: "indexes", Value: bson.A{bson.D{{Key: "key", Value: bson.D{{Key: "t", Value: "text"}}}, {Key: "name", Value: "t_text"}}}}}).Err()
	_ = c.Disconnect(ctx)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if out := stop(); out != "" {
		t.Errorf("written to stderr:\n%s", out)
	}
	lines := h.get()
	if len(lines) == 0 {
		t.Fatal("the logger got no record")
	}
	sawConn := false
	for _, l := range lines {
		if strings.Contains(l, secret) {
			t.Errorf("record holds a document value: %q", l)
		}
		if strings.Contains(l, "Response message") || strings.Contains(l, "Request message") {
			t.Errorf("wire dump logged: %q", l)
		}
		if strings.Contains(l, "name=// ") {
			sawConn = true
			if !strings.HasPrefix(l, "DEBUG ") {
				t.Errorf("connection record above DEBUG: %q", l)
			}
		}
		if strings.HasPrefix(l, "WARN ") || strings.HasPrefix(l, "ERROR ") {
			t.Errorf("probe noise above INFO: %q", l)
		}
	}
	if !sawConn {
		t.Errorf("no connection record at DEBUG among %d records", len(lines))
	}
}
