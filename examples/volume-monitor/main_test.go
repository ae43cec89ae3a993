package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/HamiGames/lucid-data/internal/testlog"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// lockedBuffer is internal/testlog's goroutine-safe buffer.
type lockedBuffer = testlog.Buffer

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// eventually polls f every 20 ms for up to 15 s.
func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	for end := time.Now().Add(15 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if f() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// TestMonitor runs the command on a temporary root, fills a volume past its
// warning threshold and its quota and empties it again, and checks the log
// events, the metrics and readiness at each stage; SIGTERM stops it.
func TestMonitor(t *testing.T) {
	root := t.TempDir()
	var logs lockedBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(context.Background(), []string{"-addr", "127.0.0.1:0", "-root", root,
			"-create", "logs:logs:1M", "-interval", "50ms", "-walk-interval", "100ms"}, log, func(a string) { addrc <- a })
	}()
	var base string
	select {
	case a := <-addrc:
		base = "http://" + a
	case err := <-done:
		t.Fatalf("run: %v\n%s", err, logs.String())
	}
	stopped := false
	defer func() {
		if !stopped {
			syscall.Kill(os.Getpid(), syscall.SIGTERM)
			<-done
		}
	}()

	metric := func(name, labels string) string {
		_, body := get(t, base+"/metrics")
		for _, l := range strings.Split(body, "\n") {
			if strings.HasPrefix(l, name+"{"+labels+"} ") {
				return strings.TrimPrefix(l, name+"{"+labels+"} ")
			}
		}
		return ""
	}
	ready := func(status int, word string) func() bool {
		return func() bool {
			code, body := get(t, base+"/readyz")
			return code == status && strings.Contains(body, `"status":"`+word+`"`)
		}
	}
	logged := func(s string) func() bool { return func() bool { return strings.Contains(logs.String(), s) } }

	if code, body := get(t, base+"/livez"); code != 200 || strings.TrimSpace(body) != "ok" {
		t.Fatalf("/livez: %d %s", code, body)
	}
	eventually(t, "the volume ready and up", ready(200, "up"))
	eventually(t, "the quota metric", func() bool { return metric("lucid_volume_quota_bytes", `type="logs",volume="logs"`) == "1.048576e+06" })
	if !strings.Contains(logs.String(), "volume created") {
		t.Errorf("no creation logged:\n%s", logs.String())
	}
	if _, body := get(t, base+"/metrics"); !strings.Contains(body, "go_goroutines") || !strings.Contains(body, "lucid_volume_fs_available_bytes") {
		t.Errorf("metrics lack the Go or filesystem collectors:\n%s", body)
	}

	// Past the warning threshold (80 % of 1 MiB).
	dir := filepath.Join(root, "logs")
	if err := os.WriteFile(filepath.Join(dir, "a.log"), make([]byte, 900<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a WARN event", logged(`level=WARN msg="volume threshold" volume=logs scope=quota from=ok to=warning used_bytes=`))
	eventually(t, "level 1 in the metrics", func() bool { return metric("lucid_volume_level", `scope="quota",type="logs",volume="logs"`) == "1" })
	eventually(t, "readiness degraded (still 200)", ready(200, "degraded"))

	// At the quota.
	if err := os.WriteFile(filepath.Join(dir, "b.log"), make([]byte, 200<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	eventually(t, "an ERROR event", logged(`level=ERROR msg="volume threshold" volume=logs scope=quota from=warning to=critical`))
	eventually(t, "level 2 in the metrics", func() bool { return metric("lucid_volume_level", `scope="quota",type="logs",volume="logs"`) == "2" })
	eventually(t, "unready (503)", ready(503, "down"))

	// Emptied.
	os.Remove(filepath.Join(dir, "a.log"))
	os.Remove(filepath.Join(dir, "b.log"))
	eventually(t, "an INFO event back to ok", logged(`level=INFO msg="volume threshold" volume=logs scope=quota from=critical to=ok`))
	eventually(t, "ready and up again", ready(200, "up"))

	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	stopped = true
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run after SIGTERM: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not stop on SIGTERM")
	}
	t.Log("\n" + logs.String())
	for _, want := range []string{"watching volumes", "listening", "shutting down", "stopped"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
}

func TestBadInput(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	for _, args := range [][]string{
		{"-nope"},
		{"-create", "x"},
		{"-create", "x:nosuchtype"},
		{"-create", "x:logs:lots"},
		{"-root", t.TempDir(), "-create", "../x:logs", "-addr", "127.0.0.1:0"},
		{"-root", t.TempDir(), "-addr", "256.0.0.1:0"},
	} {
		if err := run(context.Background(), args, log, nil); err == nil {
			t.Errorf("run(%q) succeeded", args)
		}
	}
}
