// Package health is the one health shape of lucid-data and a small
// aggregator that serves liveness and readiness over HTTP.
//
//	agg := health.NewAggregator(health.Options{})
//	_ = agg.Register("redis", redisClient, health.CheckOptions{})   // anything with Check(ctx) health.Report
//	_ = agg.Register("search", searchClient, health.CheckOptions{Optional: true})
//	http.Handle("/livez", agg.LiveHandler())
//	http.Handle("/readyz", agg.ReadyHandler())
//
// Every client of the SDK reports a [Report]: a [Status] (up, degraded,
// down), the probe's latency, the server's version and package-specific
// details. The aggregator runs the registered checks concurrently, each
// under its own deadline, shares one run between concurrent requests and
// reuses a result for a short time, so a busy load balancer does not
// hammer the data tier with probes.
package health

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/HamiGames/lucid-data/errkind"
)

// ErrInvalid is returned for a bad registration (empty or duplicate name,
// nil checker).
var ErrInvalid = errkind.New(errkind.InvalidArgument, "health: invalid argument")

// Status is a component's state. The zero value is Down, so a Report
// nobody filled in never reads as healthy.
type Status int

// Statuses, from worst to best.
const (
	// Down: the component cannot serve (unreachable, failing, full).
	Down Status = iota
	// Degraded: it serves, but something needs attention (a volume at its
	// warning threshold, a yellow search cluster, a replica set without a
	// secondary, an optional component that is down).
	Degraded
	// Up: it serves normally.
	Up
)

// String returns "down", "degraded" or "up".
func (s Status) String() string {
	switch s {
	case Up:
		return "up"
	case Degraded:
		return "degraded"
	case Down:
		return "down"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// MarshalText encodes the status as its name, for JSON.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Worst returns the worse of s and t.
func (s Status) Worst(t Status) Status {
	if t < s {
		return t
	}
	return s
}

// Report is the result of one health check, the same shape in every
// package.
type Report struct {
	// Status is the component's state.
	Status Status `json:"status"`
	// Latency is the round trip of the probe (a ping, a statfs).
	Latency time.Duration `json:"latency_ns"`
	// Version is the server's product and version ("Redis 7.0.15",
	// "FerretDB v1.24.2", "opensearch 2.19.1"); empty where there is none.
	Version string `json:"version,omitempty"`
	// Details holds package-specific facts (role, memory, cluster status,
	// usage percent). Values are strings, numbers or booleans; never
	// secrets.
	Details map[string]any `json:"details,omitempty"`
	// Err is why the component is not Up (nil when Up). Errors of the SDK
	// never hold secrets.
	Err error `json:"-"`
}

// MarshalJSON adds the error's message as "error".
func (r Report) MarshalJSON() ([]byte, error) {
	type plain Report
	out := struct {
		plain
		Error string `json:"error,omitempty"`
	}{plain: plain(r)}
	if r.Err != nil {
		out.Error = r.Err.Error()
	}
	return json.Marshal(out)
}

// Checker is anything that can report its health: every SDK client
// implements it. Check must honour ctx's deadline.
type Checker interface {
	Check(ctx context.Context) Report
}

// CheckerFunc adapts a function to a Checker.
type CheckerFunc func(ctx context.Context) Report

// Check calls f(ctx).
func (f CheckerFunc) Check(ctx context.Context) Report { return f(ctx) }

// DownReport returns a Report of status Down for err: what a checker
// returns when its probe failed.
func DownReport(err error, latency time.Duration) Report {
	return Report{Status: Down, Err: err, Latency: latency}
}

// Options configure an Aggregator. The zero value is usable.
type Options struct {
	// Timeout bounds each check (default 2 s). A check still running at its
	// deadline is reported Down with context.DeadlineExceeded; its goroutine
	// ends when the checker returns.
	Timeout time.Duration
	// CacheFor is how long a result is reused (default 1 s; negative: never
	// reused). Concurrent requests always share one run.
	CacheFor time.Duration
	// Logger receives one line per component whose status changes
	// (default: discard).
	Logger *slog.Logger
	// now is the clock (tests).
	now func() time.Time
}

// CheckOptions configure one registered check.
type CheckOptions struct {
	// Optional components make the whole degraded, not down, when they are
	// down: the service can work without them (a search index for an
	// optional feature).
	Optional bool
}

// Summary is the result of running every check.
type Summary struct {
	// Status is the worst status of the required components; an optional
	// component counts as Degraded at worst.
	Status Status `json:"status"`
	// Checks maps each registered name to its report.
	Checks map[string]Report `json:"checks"`
	// CheckedAt is when the run started.
	CheckedAt time.Time `json:"checked_at"`
}

type entry struct {
	name string
	c    Checker
	opts CheckOptions
}

// Aggregator runs registered checks and serves their summary. It is safe
// for concurrent use.
type Aggregator struct {
	opts Options
	log  *slog.Logger

	mu      sync.Mutex
	entries []entry
	last    *Summary      // the latest completed run
	running chan struct{} // closed when the run in flight completes
	prev    map[string]Status
}

// NewAggregator returns an Aggregator with no checks.
func NewAggregator(opts Options) *Aggregator {
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Second
	}
	if opts.CacheFor == 0 {
		opts.CacheFor = time.Second
	}
	if opts.now == nil {
		opts.now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Aggregator{opts: opts, log: log, prev: map[string]Status{}}
}

// Register adds a check under name. Names are unique.
func (a *Aggregator) Register(name string, c Checker, opts CheckOptions) error {
	if name == "" || c == nil {
		return fmt.Errorf("health: register %q: empty name or nil checker: %w", name, ErrInvalid)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, e := range a.entries {
		if e.name == name {
			return fmt.Errorf("health: register %q: name already registered: %w", name, ErrInvalid)
		}
	}
	a.entries = append(a.entries, entry{name, c, opts})
	a.last = nil
	return nil
}

// Check runs every check concurrently (or returns a result younger than
// Options.CacheFor) and summarises them. If ctx ends first, Check returns
// a summary in which the unfinished checks are Down with ctx's error.
func (a *Aggregator) Check(ctx context.Context) Summary {
	for {
		a.mu.Lock()
		if a.last != nil && a.opts.CacheFor > 0 && a.opts.now().Sub(a.last.CheckedAt) < a.opts.CacheFor {
			s := *a.last
			a.mu.Unlock()
			return s
		}
		if a.running == nil {
			break
		}
		wait := a.running
		a.mu.Unlock()
		select {
		case <-wait:
			a.mu.Lock()
			if a.last != nil {
				s := *a.last
				a.mu.Unlock()
				return s
			}
			a.mu.Unlock()
		case <-ctx.Done():
			return a.abandoned(ctx.Err())
		}
	}
	done := make(chan struct{})
	a.running = done
	entries := append([]entry(nil), a.entries...)
	a.mu.Unlock()

	s := a.run(ctx, entries)

	a.mu.Lock()
	a.running = nil
	a.last = &s
	a.logChanges(s)
	a.mu.Unlock()
	close(done)
	return s
}

// abandoned is the summary for a caller whose ctx ended while waiting for
// another caller's run.
func (a *Aggregator) abandoned(err error) Summary {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := Summary{Status: Down, Checks: map[string]Report{}, CheckedAt: a.opts.now()}
	for _, e := range a.entries {
		s.Checks[e.name] = Report{Status: Down, Err: err}
	}
	return s
}

func (a *Aggregator) run(ctx context.Context, entries []entry) Summary {
	s := Summary{Status: Up, Checks: make(map[string]Report, len(entries)), CheckedAt: a.opts.now()}
	type result struct {
		i int
		r Report
	}
	// Buffered so a checker that outlives its deadline can still deliver
	// and end.
	results := make(chan result, len(entries))
	cctx, cancel := context.WithTimeout(ctx, a.opts.Timeout)
	defer cancel()
	for i, e := range entries {
		go func() {
			start := time.Now()
			r := safeCheck(cctx, e.c)
			if r.Latency == 0 {
				r.Latency = time.Since(start)
			}
			results <- result{i, r}
		}()
	}
	got := make([]bool, len(entries))
	for n := 0; n < len(entries); n++ {
		select {
		case res := <-results:
			got[res.i] = true
			s.Checks[entries[res.i].name] = res.r
		case <-cctx.Done():
			n = len(entries) // stop waiting
		}
	}
	for i, e := range entries {
		if !got[i] {
			s.Checks[e.name] = Report{Status: Down, Err: fmt.Errorf("health: %s: %w", e.name, cctx.Err())}
		}
		r := s.Checks[e.name]
		if r.Status == Down && r.Err == nil {
			r.Err = errors.New("health: " + e.name + ": down")
			s.Checks[e.name] = r
		}
		st := r.Status
		if e.opts.Optional {
			st = st.max(Degraded)
		}
		s.Status = s.Status.Worst(st)
	}
	return s
}

// max returns the better of s and t.
func (s Status) max(t Status) Status {
	if t > s {
		return t
	}
	return s
}

// safeCheck turns a checker's panic into a Down report: one broken checker
// must not take the health endpoint down with it.
func safeCheck(ctx context.Context, c Checker) (r Report) {
	defer func() {
		if p := recover(); p != nil {
			r = Report{Status: Down, Err: fmt.Errorf("health: checker panicked: %v", p)}
		}
	}()
	return c.Check(ctx)
}

func (a *Aggregator) logChanges(s Summary) {
	for name, r := range s.Checks {
		if old, ok := a.prev[name]; !ok || old != r.Status {
			if ok || r.Status != Up {
				a.log.Info("health changed", "component", name, "status", r.Status.String(), "err", r.Err)
			}
			a.prev[name] = r.Status
		}
	}
}

// LiveHandler answers liveness probes: 200 "ok" while the process can
// serve HTTP. It runs no check: a data tier outage must make a service
// unready, not get it restarted.
func (a *Aggregator) LiveHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = w.Write([]byte("ok\n"))
		}
	})
}

// ReadyHandler answers readiness probes with the Summary as JSON: 200 when
// the status is up or degraded, 503 when it is down.
func (a *Aggregator) ReadyHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := a.Check(r.Context())
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		code := http.StatusOK
		if s.Status == Down {
			code = http.StatusServiceUnavailable
		}
		w.WriteHeader(code)
		if r.Method == http.MethodHead {
			return
		}
		_ = json.NewEncoder(w).Encode(s)
	})
}

// Names returns the registered names in registration order.
func (a *Aggregator) Names() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]string, len(a.entries))
	for i, e := range a.entries {
		out[i] = e.name
	}
	return out
}
