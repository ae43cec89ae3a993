//go:build !lucidfuzz

package cache_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/HamiGames/lucid-data/cache"
	"github.com/HamiGames/lucid-data/internal/testenv"
)

// startSentinel runs one Sentinel (quorum 1) monitoring masterAddr as
// "lucidmaster" and returns its address. It detects a dead master after
// one second, so failover tests take seconds, not the default 30.
func startSentinel(t *testing.T, masterAddr string) string {
	t.Helper()
	host, port, _ := net.SplitHostPort(masterAddr)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	noErr(t, err)
	sport := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dir := t.TempDir()
	conf := filepath.Join(dir, "sentinel.conf")
	noErr(t, os.WriteFile(conf, []byte(fmt.Sprintf(`port %d
bind 127.0.0.1
protected-mode no
dir %s
sentinel monitor lucidmaster %s %s 1
sentinel down-after-milliseconds lucidmaster 1000
sentinel failover-timeout lucidmaster 10000
`, sport, dir, host, port)), 0o600))
	cmd := exec.Command("redis-server", conf, "--sentinel")
	if err := cmd.Start(); err != nil {
		if testenv.Required() {
			t.Fatalf("redis-server --sentinel: %v", err)
		}
		t.Skipf("redis-server --sentinel: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return fmt.Sprintf("127.0.0.1:%d", sport)
}

// connectSentinel connects through the Sentinel at saddr, waiting for it
// to come up.
func connectSentinel(t *testing.T, saddr string) *cache.Client {
	t.Helper()
	for i := 0; ; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		c, err := cache.Connect(ctx, cache.Config{Addrs: []string{saddr}, MasterName: "lucidmaster"})
		cancel()
		if err == nil {
			t.Cleanup(func() { _ = c.Close() })
			return c
		}
		if i == 50 {
			t.Fatalf("connect through Sentinel: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitFor polls cond every 100ms until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(d); !cond(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("not within %v: %s", d, what)
		}
	}
}

// TestSentinel runs a private master and one Sentinel monitoring it, and
// connects through the Sentinel with Config.MasterName.
func TestSentinel(t *testing.T) {
	ctx := context.Background()
	master := testenv.StartRedis(t)
	c := connectSentinel(t, startSentinel(t, master.Addr()))
	cc, err := c.Cache(cache.CacheOptions{})
	noErr(t, err)
	noErr(t, cc.Set(ctx, "via-sentinel", []byte("ok"), time.Minute))
	h, err := c.Health(ctx)
	noErr(t, err)
	if len(h.Nodes) != 1 || h.Nodes[0].Role != "master" {
		t.Fatalf("health through Sentinel: %+v", h)
	}
	// The value is on the master the Sentinel named.
	m, err := cache.Connect(ctx, cache.Config{URL: master.URL()})
	noErr(t, err)
	defer m.Close()
	key, _ := cc.(*cache.RedisCache).Key("via-sentinel")
	if v, err := m.Redis().Get(ctx, key).Result(); err != nil || !strings.EqualFold(v, "ok") {
		t.Fatalf("value on the master: %q, %v", v, err)
	}
}

// TestSentinelFailover kills the master under a client connected through
// Sentinel: the Sentinel promotes the replica and the same client carries
// on against it, with what was written before the crash (replicated) and
// what is written after.
func TestSentinelFailover(t *testing.T) {
	ctx := context.Background()
	master, replica := testenv.StartRedis(t), testenv.StartRedis(t)
	mhost, mport, _ := net.SplitHostPort(master.Addr())
	r := redis.NewClient(&redis.Options{Addr: replica.Addr()})
	defer r.Close()
	noErr(t, r.ReplicaOf(ctx, mhost, mport).Err())
	waitFor(t, 20*time.Second, "replica in sync", func() bool {
		info, err := r.Info(ctx, "replication").Result()
		return err == nil && strings.Contains(info, "master_link_status:up")
	})
	saddr := startSentinel(t, master.Addr())
	s := redis.NewSentinelClient(&redis.Options{Addr: saddr})
	defer s.Close()
	waitFor(t, 20*time.Second, "Sentinel knows the replica", func() bool {
		reps, err := s.Replicas(ctx, "lucidmaster").Result()
		return err == nil && len(reps) == 1
	})

	c := connectSentinel(t, saddr)
	cc, err := c.Cache(cache.CacheOptions{Entity: testenv.Namespace(t)})
	noErr(t, err)
	noErr(t, cc.Set(ctx, "before", []byte("1"), time.Hour))
	// WAIT: the write reached the replica before the master dies.
	if n, err := c.Redis().Do(ctx, "WAIT", 1, 5000).Int(); err != nil || n != 1 {
		t.Fatalf("WAIT: %d, %v", n, err)
	}

	master.Stop()
	start := time.Now()
	// Writes fail (unavailable, never a panic) until the promotion, then
	// succeed against the new master through the same client.
	var failures int
	waitFor(t, 60*time.Second, "writes through Sentinel after failover", func() bool {
		sctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		err := cc.Set(sctx, "after", []byte("2"), time.Hour)
		if err != nil && !errors.Is(err, cache.ErrUnavailable) && !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("write during failover: want ErrUnavailable or a deadline, got %v", err)
		}
		failures += btoi(err != nil)
		return err == nil
	})
	if failures == 0 {
		t.Fatal("no write failed while the master was down: the test did not see the failover")
	}
	t.Logf("writes resumed %v after the master died", time.Since(start).Round(time.Millisecond))
	if role, err := r.Do(ctx, "ROLE").Slice(); err != nil || role[0] != "master" {
		t.Fatalf("replica's role after failover: %v, %v", role, err)
	}
	for k, want := range map[string]string{"before": "1", "after": "2"} {
		if v, err := cc.Get(ctx, k); err != nil || string(v) != want {
			t.Fatalf("%s after failover: %q, %v", k, v, err)
		}
		key, _ := cc.(*cache.RedisCache).Key(k)
		if v, err := r.Get(ctx, key).Result(); err != nil || v != want {
			t.Fatalf("%s on the promoted replica: %q, %v", k, v, err)
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
