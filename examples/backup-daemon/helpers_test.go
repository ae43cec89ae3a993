package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/HamiGames/lucid-data/internal/testlog"
)

// lockedBuffer is internal/testlog's goroutine-safe buffer.
type lockedBuffer = testlog.Buffer

// oneShot runs a one-shot command and decodes its output into v.
func oneShot(t *testing.T, v any, args ...string) {
	t.Helper()
	var out, logs lockedBuffer
	if err := run(context.Background(), args, &out, slog.New(slog.NewTextHandler(&logs, nil)), nil); err != nil {
		t.Fatalf("%v: %v\n%s", args, err, logs.String())
	}
	if v != nil {
		if err := json.Unmarshal([]byte(out.String()), v); err != nil {
			t.Fatalf("%v: output %q: %v", args, out.String(), err)
		}
	}
}

// TestFlags checks the command line's refusals.
func TestFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-once", "-list"},
		{"-yes"},
		{"-redis-rename", "nope"},
		{"stray"},
		{"-nosuchflag"},
	} {
		if _, err := parseFlags(args); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
	o, err := parseFlags([]string{"-restore", "x", "-parts", "mongodb,volume", "-parts", "redis", "-mongo-rename", "a=b", "-overwrite"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(o.ro.Parts, ",") != "mongodb,volume,redis" || o.ro.Mongo.Rename["a"] != "b" || !o.ro.Volume.Overwrite || !o.ro.Search.Overwrite {
		t.Fatalf("%+v", o.ro)
	}
}
