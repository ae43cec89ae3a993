//go:build !lucidfuzz

package cache_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/HamiGames/lucid-data/cache"
	"github.com/HamiGames/lucid-data/errkind"
	"github.com/HamiGames/lucid-data/internal/testenv"
)

// TestURLOptions: every option in the URL reaches go-redis, and Config
// fields override the URL.
func TestURLOptions(t *testing.T) {
	ctx := context.Background()
	u := testenv.RedisURL(t) + "?max_retries=-1&dial_timeout=200ms&read_timeout=250ms&pool_size=7&min_idle_conns=1&pool_timeout=900ms"
	c, err := cache.Connect(ctx, cache.Config{URL: u})
	noErr(t, err)
	defer c.Close()
	o := c.Redis().(*redis.Client).Options()
	if o.MaxRetries != 0 || o.DialTimeout != 200*time.Millisecond || o.ReadTimeout != 250*time.Millisecond ||
		o.WriteTimeout != 250*time.Millisecond || o.PoolSize != 7 || o.MinIdleConns != 1 || o.PoolTimeout != 900*time.Millisecond {
		t.Fatalf("URL options lost: MaxRetries %d, DialTimeout %v, ReadTimeout %v, WriteTimeout %v, PoolSize %d, MinIdleConns %d, PoolTimeout %v",
			o.MaxRetries, o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolSize, o.MinIdleConns, o.PoolTimeout)
	}

	c2, err := cache.Connect(ctx, cache.Config{URL: u, PoolSize: 9, ReadTimeout: time.Second, MaxRetries: 2, DialerRetries: 3})
	noErr(t, err)
	defer c2.Close()
	o = c2.Redis().(*redis.Client).Options()
	if o.PoolSize != 9 || o.ReadTimeout != time.Second || o.MaxRetries != 2 || o.DialerRetries != 3 || o.DialTimeout != 200*time.Millisecond {
		t.Fatalf("Config does not override the URL: PoolSize %d, ReadTimeout %v, MaxRetries %d, DialerRetries %d, DialTimeout %v",
			o.PoolSize, o.ReadTimeout, o.MaxRetries, o.DialerRetries, o.DialTimeout)
	}

	addrs := testenv.RedisClusterAddrs(t)
	cu := "redis://" + addrs[0] + "?addr=" + addrs[1] + "&read_timeout=250ms&max_redirects=1"
	cl, err := cache.Connect(ctx, cache.Config{URL: cu, Cluster: true})
	noErr(t, err)
	defer cl.Close()
	co := cl.Redis().(*redis.ClusterClient).Options()
	if co.ReadTimeout != 250*time.Millisecond || co.MaxRedirects != 1 || len(co.Addrs) != 2 {
		t.Fatalf("cluster URL options lost: ReadTimeout %v, MaxRedirects %d, Addrs %d", co.ReadTimeout, co.MaxRedirects, len(co.Addrs))
	}
	if _, err := cache.Connect(ctx, cache.Config{URL: testenv.RedisURL(t) + "?no_such_option=1&password=sekrit"}); !errors.Is(err, cache.ErrInvalid) || containsSecret(err) {
		t.Fatalf("unknown URL option: %v", err)
	}
}

// TestCallBound kills, then hangs (SIGSTOP) a private Redis: every call
// returns within Client.MaxCommandDuration, wrapping ErrUnavailable.
func TestCallBound(t *testing.T) {
	ctx := context.Background()
	p := testenv.StartRedis(t)
	cl, err := cache.Connect(ctx, cache.Config{URL: p.URL(), DialTimeout: 150 * time.Millisecond,
		ReadTimeout: 150 * time.Millisecond, WriteTimeout: 150 * time.Millisecond, PoolTimeout: 200 * time.Millisecond,
		MaxRetries: 2, MinRetryBackoff: 20 * time.Millisecond, MaxRetryBackoff: 80 * time.Millisecond,
		DialerRetries: 2, DialerRetryTimeout: 50 * time.Millisecond, PoolSize: 2})
	noErr(t, err)
	t.Cleanup(func() { _ = cl.Close() })
	bound := cl.MaxCommandDuration()
	// (2+1)·(200 + 2·150 + 50 + 3·300) + 2·80 ms
	if want := 3*(1450*time.Millisecond) + 160*time.Millisecond; bound != want {
		t.Fatalf("MaxCommandDuration = %v, want %v", bound, want)
	}
	calls, c := boundCalls(t, cl)
	rdb := cl.Redis()

	p.Stop()
	checkBound(t, calls, bound, "killed", 1)
	checkBound(t, calls, bound, "killed, concurrent", 4)

	noErr(t, p.Start())
	waitPing(t, rdb)
	pids := serverPIDs(t, rdb)
	hang(t, pids)
	checkBound(t, calls, bound, "hung", 1)
	checkBound(t, calls, bound, "hung, concurrent", 4) // more callers than PoolSize: pool waits count too
	resume(t, pids)

	// A caller's shorter deadline still wins, reported as the ctx error.
	hang(t, pids)
	// go-redis sets the socket deadline from ctx's; whichever of the two
	// fires first, the error is the caller's deadline, never Unavailable.
	for i := range 30 {
		short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		_, err := c.Get(short, "k")
		cancel()
		if errkind.Of(err) != errkind.DeadlineExceeded || errors.Is(err, cache.ErrUnavailable) {
			t.Errorf("hung, short ctx #%d: %v (kind %v), want only context.DeadlineExceeded", i, err, errkind.Of(err))
		}
	}
	resume(t, pids)
}

// TestStreamReadBound: on a hung server a blocking Stream.Read on a pooled
// connection returns ErrUnavailable within Block + ReadTimeout (go-redis
// alone would wait Block + 10 s), and never returns before Block has passed.
func TestStreamReadBound(t *testing.T) {
	ctx := context.Background()
	p := testenv.StartRedis(t)
	const readTimeout, block = 150 * time.Millisecond, 1500 * time.Millisecond
	cl, err := cache.Connect(ctx, cache.Config{URL: p.URL(), ReadTimeout: readTimeout, MaxRetries: -1, PoolSize: 1})
	noErr(t, err)
	t.Cleanup(func() { _ = cl.Close() })
	st, err := cl.Stream(ctx, "s", cache.StreamOptions{Group: "g", Consumer: "c", Block: block})
	noErr(t, err)
	if _, err := st.Read(ctx, 1); err != nil { // the one pooled connection is now open
		t.Fatal(err)
	}
	pids := serverPIDs(t, cl.Redis())
	hang(t, pids)
	start := time.Now()
	_, err = st.Read(ctx, 1)
	d := time.Since(start)
	resume(t, pids)
	if !errors.Is(err, cache.ErrUnavailable) {
		t.Fatalf("hung read: %v, want ErrUnavailable", err)
	}
	if d < block || d > block+readTimeout+300*time.Millisecond {
		t.Fatalf("hung read took %v, want between Block %v and Block + ReadTimeout %v (+300 ms scheduling slack)", d, block, block+readTimeout)
	}
}

// TestCallBoundCluster is TestCallBound on a private 3-master Cluster:
// every node killed, then every node hung; the bound includes the
// redirects a Cluster command may follow.
func TestCallBoundCluster(t *testing.T) {
	ctx := context.Background()
	rc := testenv.StartRedisCluster(t)
	cl, err := cache.Connect(ctx, cache.Config{Addrs: rc.Addrs(), Cluster: true, DialTimeout: 150 * time.Millisecond,
		ReadTimeout: 150 * time.Millisecond, WriteTimeout: 150 * time.Millisecond, PoolTimeout: 200 * time.Millisecond,
		MaxRetries: 1, MinRetryBackoff: 20 * time.Millisecond, MaxRetryBackoff: 80 * time.Millisecond,
		DialerRetries: 1, DialerRetryTimeout: 50 * time.Millisecond, PoolSize: 2})
	noErr(t, err)
	t.Cleanup(func() { _ = cl.Close() })
	bound := cl.MaxCommandDuration()
	calls, _ := boundCalls(t, cl)
	rdb := cl.Redis()
	pids := serverPIDs(t, rdb)
	if len(pids) != 3 {
		t.Fatalf("%d masters' pids, want 3", len(pids))
	}

	rc.Stop()
	checkBound(t, calls, bound, "cluster killed", 1)
	checkBound(t, calls, bound, "cluster killed, concurrent", 4)

	noErr(t, rc.Start())
	waitPing(t, rdb)
	pids = serverPIDs(t, rdb)
	hang(t, pids)
	checkBound(t, calls, bound, "cluster hung", 1)
	checkBound(t, calls, bound, "cluster hung, concurrent", 4)
	resume(t, pids)
}

// boundCalls returns one call of every kind the SDK makes, on cl, and the
// Cache they use.
func boundCalls(t *testing.T, cl *cache.Client) (map[string]func(context.Context) error, cache.Cache) {
	t.Helper()
	ctx := context.Background()
	rdb := cl.Redis()
	c, err := cl.Cache(cache.CacheOptions{})
	noErr(t, err)
	lim, err := cl.Limiter(cache.LimiterOptions{FailurePolicy: cache.FailOpen})
	noErr(t, err)
	locker, err := cl.Locker(cache.LockerOptions{})
	noErr(t, err)
	sessions, err := cl.Sessions(cache.SessionOptions{})
	noErr(t, err)
	ps, err := cl.PubSub(cache.PubSubOptions{})
	noErr(t, err)
	// Read may wait Block on top of a command's bound (Config's godoc);
	// a Block under the bound keeps one bound for every call here, and
	// TestStreamReadBound checks the default Block's own bound.
	st, err := cl.Stream(ctx, "s", cache.StreamOptions{Group: "g", Consumer: "c", Block: time.Second})
	noErr(t, err)
	sess, err := sessions.Create(ctx, "u1", nil, 0)
	noErr(t, err)
	return map[string]func(context.Context) error{
		"cache get":      func(ctx context.Context) error { _, err := c.Get(ctx, "k"); return err },
		"cache set":      func(ctx context.Context) error { return c.Set(ctx, "k", []byte("v"), time.Minute) },
		"cache delete":   func(ctx context.Context) error { _, err := c.Delete(ctx, "k"); return err },
		"cache ttl":      func(ctx context.Context) error { _, err := c.TTL(ctx, "k"); return err },
		"limiter":        func(ctx context.Context) error { _, err := lim.Allow(ctx, "u", 5, time.Minute); return err },
		"lock obtain":    func(ctx context.Context) error { _, err := locker.Obtain(ctx, "l", cache.LockOptions{}); return err },
		"session create": func(ctx context.Context) error { _, err := sessions.Create(ctx, "u1", nil, 0); return err },
		"session get":    func(ctx context.Context) error { _, err := sessions.Get(ctx, sess.Token); return err },
		"session list":   func(ctx context.Context) error { _, err := sessions.List(ctx, "u1"); return err },
		"session revoke": func(ctx context.Context) error { _, err := sessions.RevokeAll(ctx, "u1"); return err },
		"publish":        func(ctx context.Context) error { _, err := ps.Publish(ctx, "ch", []byte("x")); return err },
		"stream add":     func(ctx context.Context) error { _, err := st.Add(ctx, []byte("x")); return err },
		"health":         func(ctx context.Context) error { _, err := cache.CheckHealth(ctx, rdb); return err },
		"stream read":    func(ctx context.Context) error { _, err := st.Read(ctx, 10); return err },
	}, c
}

// checkBound runs every call concurrent times at once and requires each to
// fail with ErrUnavailable within bound.
func checkBound(t *testing.T, calls map[string]func(context.Context) error, bound time.Duration, phase string, concurrent int) {
	t.Helper()
	// Scheduling slack on a loaded 2-core machine; the bound itself is the claim.
	const slack = 300 * time.Millisecond
	var wg sync.WaitGroup
	var mu sync.Mutex
	worst := time.Duration(0)
	for name, call := range calls {
		for i := range concurrent {
			wg.Go(func() {
				start := time.Now()
				err := call(context.Background())
				d := time.Since(start)
				mu.Lock()
				defer mu.Unlock()
				worst = max(worst, d)
				if !errors.Is(err, cache.ErrUnavailable) {
					t.Errorf("%s: %s #%d: %v, want ErrUnavailable", phase, name, i, err)
				}
				if d > bound+slack {
					t.Errorf("%s: %s #%d took %v, more than the bound %v", phase, name, i, d, bound)
				}
			})
		}
	}
	wg.Wait()
	t.Logf("%s: %d calls, slowest %v, bound %v", phase, len(calls)*concurrent, worst, bound)
}

// waitPing waits until rdb answers again after a restart.
func waitPing(t *testing.T, rdb redis.UniversalClient) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for rdb.Ping(ctx).Err() != nil {
		if time.Now().After(deadline) {
			t.Fatal("no reconnect after restart")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// serverPIDs returns the process id of every server rdb talks to (every
// master of a Cluster), read from INFO.
func serverPIDs(t *testing.T, rdb redis.UniversalClient) []int {
	t.Helper()
	ctx := context.Background()
	var mu sync.Mutex
	var pids []int
	read := func(ctx context.Context, c *redis.Client) error {
		info, err := c.Info(ctx, "server").Result()
		if err != nil {
			return err
		}
		for _, line := range strings.Split(info, "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "process_id:"); ok {
				pid, _ := strconv.Atoi(v)
				mu.Lock()
				pids = append(pids, pid)
				mu.Unlock()
			}
		}
		return nil
	}
	var err error
	switch r := rdb.(type) {
	case *redis.ClusterClient:
		err = r.ForEachMaster(ctx, read)
	case *redis.Client:
		err = read(ctx, r)
	default:
		t.Fatalf("unexpected client %T", rdb)
	}
	noErr(t, err)
	for _, pid := range pids {
		if pid == 0 {
			t.Fatal("no process_id in INFO")
		}
	}
	if len(pids) == 0 {
		t.Fatal("no process_id in INFO")
	}
	return pids
}

// hang stops the processes with SIGSTOP; they are resumed when t ends at
// the latest.
func hang(t *testing.T, pids []int) {
	t.Helper()
	for _, pid := range pids {
		noErr(t, syscall.Kill(pid, syscall.SIGSTOP))
		t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGCONT) })
	}
}

func resume(t *testing.T, pids []int) {
	t.Helper()
	for _, pid := range pids {
		noErr(t, syscall.Kill(pid, syscall.SIGCONT))
	}
}
