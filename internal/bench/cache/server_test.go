package cachebench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisClient connects to LUCID_TEST_REDIS_URL, or starts a private
// redis-server for the benchmark (stopped when it ends).
func redisClient(b *testing.B) *redis.Client {
	url := os.Getenv("LUCID_TEST_REDIS_URL")
	if url == "" {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		cmd := exec.Command("redis-server", "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
		if err := cmd.Start(); err != nil {
			b.Fatalf("no LUCID_TEST_REDIS_URL and no redis-server: %v", err)
		}
		b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		url = fmt.Sprintf("redis://127.0.0.1:%d/0", port)
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		b.Fatal(err)
	}
	c := redis.NewClient(opt)
	b.Cleanup(func() { _ = c.Close() })
	for i := 0; ; i++ {
		if err := c.Ping(context.Background()).Err(); err == nil {
			return c
		} else if i == 100 {
			b.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func namespace() string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return "lb" + hex.EncodeToString(b[:])
}
