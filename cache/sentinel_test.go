package cache_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/HamiGames/lucid-data/cache"
	"github.com/HamiGames/lucid-data/internal/testenv"
)

// TestSentinel runs a private master and one Sentinel monitoring it, and
// connects through the Sentinel with Config.MasterName.
func TestSentinel(t *testing.T) {
	ctx := context.Background()
	master := testenv.StartRedis(t)
	host, port, _ := net.SplitHostPort(master.Addr())
	l, err := net.Listen("tcp", "127.0.0.1:0")
	noErr(t, err)
	sport := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dir := t.TempDir()
	conf := filepath.Join(dir, "sentinel.conf")
	noErr(t, os.WriteFile(conf, []byte(fmt.Sprintf("port %d\nbind 127.0.0.1\nprotected-mode no\ndir %s\nsentinel monitor lucidmaster %s %s 1\n", sport, dir, host, port)), 0o600))
	cmd := exec.Command("redis-server", conf, "--sentinel")
	if err := cmd.Start(); err != nil {
		if testenv.Required() {
			t.Fatalf("redis-server --sentinel: %v", err)
		}
		t.Skipf("redis-server --sentinel: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	saddr := fmt.Sprintf("127.0.0.1:%d", sport)
	var c *cache.Client
	for i := 0; ; i++ {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		c, err = cache.New(cctx, cache.Config{Addrs: []string{saddr}, MasterName: "lucidmaster"})
		cancel()
		if err == nil {
			break
		}
		if i == 50 {
			t.Fatalf("connect through Sentinel: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	defer c.Close()
	cc, err := c.Cache(cache.CacheOptions{})
	noErr(t, err)
	noErr(t, cc.Set(ctx, "via-sentinel", []byte("ok"), time.Minute))
	h, err := c.Health(ctx)
	noErr(t, err)
	if len(h.Nodes) != 1 || h.Nodes[0].Role != "master" {
		t.Fatalf("health through Sentinel: %+v", h)
	}
	// The value is on the master the Sentinel named.
	m, err := cache.New(ctx, cache.Config{URL: master.URL()})
	noErr(t, err)
	defer m.Close()
	key, _ := cc.Key("via-sentinel")
	if v, err := m.Redis().Get(ctx, key).Result(); err != nil || !strings.EqualFold(v, "ok") {
		t.Fatalf("value on the master: %q, %v", v, err)
	}
}
