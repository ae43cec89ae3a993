package health

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/HamiGames/lucid-data/errkind"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func fixed(st Status) Checker {
	return CheckerFunc(func(context.Context) Report { return Report{Status: st, Version: "v1"} })
}

func TestSummaryStatus(t *testing.T) {
	cases := []struct {
		name     string
		required []Status
		optional []Status
		want     Status
	}{
		{"empty is up", nil, nil, Up},
		{"all up", []Status{Up, Up}, nil, Up},
		{"one degraded", []Status{Up, Degraded}, nil, Degraded},
		{"one down", []Status{Up, Degraded, Down}, nil, Down},
		{"optional down degrades", []Status{Up}, []Status{Down}, Degraded},
		{"optional up", []Status{Up}, []Status{Up}, Up},
	}
	for _, c := range cases {
		a := NewAggregator(Options{})
		for i, st := range c.required {
			if err := a.Register(string(rune('a'+i)), fixed(st), CheckOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		for i, st := range c.optional {
			if err := a.Register(string(rune('o'+i)), fixed(st), CheckOptions{Optional: true}); err != nil {
				t.Fatal(err)
			}
		}
		if got := a.Check(context.Background()).Status; got != c.want {
			t.Errorf("%s: status %v, want %v", c.name, got, c.want)
		}
	}
}

func TestRegisterInvalid(t *testing.T) {
	a := NewAggregator(Options{})
	if err := a.Register("", fixed(Up), CheckOptions{}); !errors.Is(err, ErrInvalid) || errkind.Of(err) != errkind.InvalidArgument {
		t.Errorf("empty name: %v", err)
	}
	if err := a.Register("x", nil, CheckOptions{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("nil checker: %v", err)
	}
	_ = a.Register("x", fixed(Up), CheckOptions{})
	if err := a.Register("x", fixed(Up), CheckOptions{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("duplicate: %v", err)
	}
}

func TestTimeoutAndPanic(t *testing.T) {
	a := NewAggregator(Options{Timeout: 50 * time.Millisecond})
	release := make(chan struct{})
	_ = a.Register("stuck", CheckerFunc(func(ctx context.Context) Report {
		<-release // ignores ctx on purpose
		return Report{Status: Up}
	}), CheckOptions{})
	_ = a.Register("panics", CheckerFunc(func(context.Context) Report { panic("boom") }), CheckOptions{})
	_ = a.Register("ok", fixed(Up), CheckOptions{})
	start := time.Now()
	s := a.Check(context.Background())
	if d := time.Since(start); d > time.Second {
		t.Errorf("Check took %v with a 50ms timeout", d)
	}
	if r := s.Checks["stuck"]; r.Status != Down || !errors.Is(r.Err, context.DeadlineExceeded) {
		t.Errorf("stuck: %+v", r)
	}
	if r := s.Checks["panics"]; r.Status != Down || r.Err == nil {
		t.Errorf("panics: %+v", r)
	}
	if r := s.Checks["ok"]; r.Status != Up || r.Version != "v1" {
		t.Errorf("ok: %+v", r)
	}
	close(release) // the straggler delivers into its buffer and ends (goleak checks)
}

func TestSharedRunAndCache(t *testing.T) {
	now := time.Unix(1000, 0)
	var mu sync.Mutex
	a := NewAggregator(Options{CacheFor: time.Second, now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }})
	var runs atomic.Int32
	gate := make(chan struct{})
	_ = a.Register("slow", CheckerFunc(func(ctx context.Context) Report {
		runs.Add(1)
		<-gate
		return Report{Status: Up}
	}), CheckOptions{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() { defer wg.Done(); a.Check(context.Background()) }()
	}
	time.Sleep(50 * time.Millisecond)
	close(gate)
	wg.Wait()
	if n := runs.Load(); n != 1 {
		t.Errorf("8 concurrent checks ran the checker %d times, want 1", n)
	}
	a.Check(context.Background())
	if n := runs.Load(); n != 1 {
		t.Errorf("a check within CacheFor ran the checker again (%d runs)", n)
	}
	mu.Lock()
	now = now.Add(2 * time.Second)
	mu.Unlock()
	a.Check(context.Background())
	if n := runs.Load(); n != 2 {
		t.Errorf("after CacheFor: %d runs, want 2", n)
	}
}

func TestHandlers(t *testing.T) {
	a := NewAggregator(Options{CacheFor: -1})
	var st atomic.Int32
	st.Store(int32(Up))
	_ = a.Register("db", CheckerFunc(func(context.Context) Report {
		s := Status(st.Load())
		r := Report{Status: s, Version: "FerretDB v1.24.2", Details: map[string]any{"role": "primary"}}
		if s == Down {
			r.Err = errors.New("mongostore: server unavailable")
		}
		return r
	}), CheckOptions{})
	srv := httptest.NewServer(http.NewServeMux())
	defer srv.Close()
	mux := srv.Config.Handler.(*http.ServeMux)
	mux.Handle("/livez", a.LiveHandler())
	mux.Handle("/readyz", a.ReadyHandler())

	get := func(path string) (int, map[string]any) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		if path == "/readyz" {
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
		}
		return resp.StatusCode, body
	}
	for _, c := range []struct {
		st   Status
		code int
	}{{Up, 200}, {Degraded, 200}, {Down, 503}} {
		st.Store(int32(c.st))
		code, body := get("/readyz")
		if code != c.code || body["status"] != c.st.String() {
			t.Errorf("%v: readyz %d %v", c.st, code, body)
		}
		db := body["checks"].(map[string]any)["db"].(map[string]any)
		if db["version"] != "FerretDB v1.24.2" {
			t.Errorf("%v: db report %v", c.st, db)
		}
		if c.st == Down && db["error"] != "mongostore: server unavailable" {
			t.Errorf("down report carries no error: %v", db)
		}
		if code, _ := get("/livez"); code != 200 {
			t.Errorf("%v: livez %d", c.st, code)
		}
	}
}

func TestZeroReportIsDown(t *testing.T) {
	var r Report
	if r.Status != Down {
		t.Fatal("zero Report is not Down")
	}
	a := NewAggregator(Options{})
	_ = a.Register("lazy", CheckerFunc(func(context.Context) Report { return Report{} }), CheckOptions{})
	s := a.Check(context.Background())
	if s.Status != Down || s.Checks["lazy"].Err == nil {
		t.Errorf("zero report: %+v", s)
	}
}
