//go:build !lucidfuzz

package redispart_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/HamiGames/lucid-data/backup/redispart"
	"github.com/HamiGames/lucid-data/internal/testenv"
)

// benchKeys is the keyspace of the benchmarks: strings, hashes, lists and
// sets of session-like sizes, a tenth with a TTL.
const benchKeys = 50_000

func benchServer(b *testing.B) (*testenv.RedisProcess, *redis.Client) {
	b.Helper()
	ctx := context.Background()
	p := testenv.StartRedis(b)
	c := redis.NewClient(&redis.Options{Addr: p.Addr()})
	b.Cleanup(func() { _ = c.Close() })
	val := strings.Repeat("session-payload-", 8)
	for i := 0; i < benchKeys; i += 500 {
		_, err := c.Pipelined(ctx, func(pp redis.Pipeliner) error {
			for j := i; j < i+500; j++ {
				k := "lucid:bench:" + strconv.Itoa(j)
				switch j % 4 {
				case 0:
					pp.Set(ctx, k, val, 0)
				case 1:
					pp.HSet(ctx, k, "user", j, "state", "active", "data", val)
				case 2:
					pp.RPush(ctx, k, "a", "b", j)
				case 3:
					pp.SAdd(ctx, k, j, j+1, j+2)
				}
				if j%10 == 0 {
					pp.Expire(ctx, k, 3600e9)
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return p, c
}

// interleave runs sdk and peer once per iteration, alternating which goes
// first, so load on the shared machine falls on both (internal/bench/pair
// does the same but lives in another module), and reports each side's
// ns/op and sdk/peer, the SDK's time over the peer's.
func interleave(b *testing.B, sdk, peer func() error) {
	var ts, tp time.Duration
	timed := func(f func() error, d *time.Duration) {
		t0 := time.Now()
		if err := f(); err != nil {
			b.Fatal(err)
		}
		*d += time.Since(t0)
	}
	i := 0
	for b.Loop() {
		if i%2 == 0 {
			timed(sdk, &ts)
			timed(peer, &tp)
		} else {
			timed(peer, &tp)
			timed(sdk, &ts)
		}
		i++
	}
	b.ReportMetric(float64(ts.Nanoseconds())/float64(i), "sdk-ns/op")
	b.ReportMetric(float64(tp.Nanoseconds())/float64(i), "peer-ns/op")
	b.ReportMetric(float64(ts)/float64(tp), "sdk/peer")
}

// BenchmarkSourceVsRedisCLI pairs the Source writing the keyspace's RDB
// with `redis-cli --rdb`, which has the server fork and send its own dump
// (the ceiling).
func BenchmarkSourceVsRedisCLI(b *testing.B) {
	if _, err := exec.LookPath("redis-cli"); err != nil {
		b.Skip("redis-cli not installed")
	}
	p, c := benchServer(b)
	ctx := context.Background()
	host, port, _ := strings.Cut(p.Addr(), ":")
	out := filepath.Join(b.TempDir(), "cli.rdb")
	// Redis 7 waits 5 s by default before a diskless transfer, for more
	// replicas to join: not what is measured here.
	if err := c.ConfigSet(ctx, "repl-diskless-sync-delay", "0").Err(); err != nil {
		b.Fatal(err)
	}
	interleave(b, func() error {
		st, err := (&redispart.Source{Client: c}).Stream(ctx, io.Discard)
		if err == nil && st.Records != benchKeys {
			b.Fatalf("%d keys", st.Records)
		}
		return err
	}, func() error {
		cmd := exec.Command("redis-cli", "-h", host, "-p", port, "--rdb", out)
		if o, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("redis-cli: %v %s", err, o)
		}
		return os.Remove(out)
	})
	b.ReportMetric(float64(benchKeys), "keys/op")
}

// BenchmarkRestore restores the keyspace's RDB into a private server
// (REPLACE, so every iteration writes every key).
func BenchmarkRestore(b *testing.B) {
	_, c := benchServer(b)
	ctx := context.Background()
	var rdb bytes.Buffer
	if _, err := (&redispart.Source{Client: c}).Stream(ctx, &rdb); err != nil {
		b.Fatal(err)
	}
	dst := testenv.StartRedis(b)
	dc := redis.NewClient(&redis.Options{Addr: dst.Addr()})
	defer dc.Close()
	b.ResetTimer()
	for b.Loop() {
		rs, err := redispart.Restorer{Client: dc}.RestoreRDB(ctx, bytes.NewReader(rdb.Bytes()))
		if err != nil || rs.Restored != benchKeys {
			b.Fatalf("%+v %v", rs, err)
		}
	}
	b.ReportMetric(float64(benchKeys)*float64(b.N)/b.Elapsed().Seconds(), "keys/s")
}
