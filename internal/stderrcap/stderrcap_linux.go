// Package stderrcap captures what a process writes to file descriptor 2,
// for the tests that prove the SDK writes nothing to stderr (go-redis's,
// FerretDB's and elastictransport's lines all go through the caller's
// slog.Logger): os.Stderr alone would miss a library holding fd 2.
package stderrcap

import (
	"bytes"
	"io"
	"os"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// Capture points fd 2 at a pipe until the returned function, which
// restores it and returns what was written there; it also runs when t
// ends. Tests using it must not run in parallel with others of their
// binary that write to stderr.
func Capture(t testing.TB) func() string {
	t.Helper()
	saved, err := unix.Dup(2)
	if err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Dup2(int(w.Fd()), 2); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.Copy(&buf, r)
	}()
	var once sync.Once
	var out string
	stop := func() string {
		once.Do(func() {
			_ = unix.Dup2(saved, 2)
			_ = unix.Close(saved)
			_ = w.Close()
			<-done
			_ = r.Close()
			out = buf.String()
		})
		return out
	}
	t.Cleanup(func() { stop() })
	return stop
}
