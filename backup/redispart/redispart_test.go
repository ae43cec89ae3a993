//go:build !lucidfuzz

package redispart_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/redis/go-redis/v9"

	"github.com/HamiGames/lucid-data/backup"
	"github.com/HamiGames/lucid-data/backup/redispart"
	"github.com/HamiGames/lucid-data/internal/testenv"
)

// fill writes one key of every type and encoding Redis 7.0 writes under
// prefix, some with TTLs, and returns their names.
func fill(t testing.TB, c redis.UniversalClient, prefix string) []string {
	t.Helper()
	ctx := context.Background()
	var keys []string
	do := func(key string, args ...any) {
		t.Helper()
		if err := c.Do(ctx, args...).Err(); err != nil {
			t.Fatalf("%v: %v", args[:2], err)
		}
		keys = append(keys, key)
	}
	k := func(s string) string { return prefix + s }
	do(k("str:int"), "set", k("str:int"), "123456")
	do(k("str:neg"), "set", k("str:neg"), "-7")
	do(k("str:short"), "set", k("str:short"), "hello", "px", 3600_000)
	do(k("str:long"), "set", k("str:long"), strings.Repeat("abcdefgh", 40))
	do(k("str:bin"), "set", k("str:bin"), string([]byte{0, 1, 2, 0xff, 0xfe, '\n'}), "px", 7200_000)
	do(k(strings.Repeat("long-key-name-", 4)), "set", k(strings.Repeat("long-key-name-", 4)), "v")
	do(k("list:small"), "rpush", k("list:small"), "a", "b", "1", "2")
	big := []any{"rpush", k("list:big")}
	for i := range 3000 {
		big = append(big, fmt.Sprintf("element-%d-%s", i, strings.Repeat("x", i%50)))
	}
	do(k("list:big"), big...)
	do(k("set:int"), "sadd", k("set:int"), 1, 2, 3, 100000)
	do(k("set:str"), "sadd", k("set:str"), "a", "b", "c")
	bigset := []any{"sadd", k("set:big")}
	for i := range 1000 {
		bigset = append(bigset, "member-"+strconv.Itoa(i))
	}
	do(k("set:big"), bigset...)
	if err := c.PExpire(ctx, k("set:big"), time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	do(k("zset:small"), "zadd", k("zset:small"), 1.5, "a", -2, "b", "inf", "c")
	bigz := []any{"zadd", k("zset:big")}
	for i := range 500 {
		bigz = append(bigz, float64(i)/3, "m"+strconv.Itoa(i))
	}
	do(k("zset:big"), bigz...)
	do(k("hash:small"), "hset", k("hash:small"), "f1", "v1", "f2", "22")
	bigh := []any{"hset", k("hash:big")}
	for i := range 600 {
		bigh = append(bigh, "field"+strconv.Itoa(i), strings.Repeat("v", i%90))
	}
	do(k("hash:big"), bigh...)
	for i := range 20 {
		if err := c.XAdd(ctx, &redis.XAddArgs{Stream: k("stream"), Values: []any{"n", i, "s", "payload"}}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	keys = append(keys, k("stream"))
	if err := c.XGroupCreate(ctx, k("stream"), "g1", "0").Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g1", Consumer: "c1", Streams: []string{k("stream"), ">"}, Count: 5}).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.XDel(ctx, k("stream"), "0-1").Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.PExpire(ctx, k("stream"), 90*time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	return keys
}

type item struct {
	dump string
	ttl  time.Duration
}

func snapshot(t testing.TB, c redis.UniversalClient, keys []string) map[string]item {
	t.Helper()
	ctx := context.Background()
	m := map[string]item{}
	for _, k := range keys {
		d, err := c.Dump(ctx, k).Result()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		// A hash table's DUMP follows its iteration order, which a reload
		// may change: compare those by content and encoding.
		enc := c.ObjectEncoding(ctx, k).Val()
		if enc == "hashtable" {
			switch c.Type(ctx, k).Val() {
			case "set":
				m := c.SMembers(ctx, k).Val()
				sort.Strings(m)
				d = enc + " set " + strings.Join(m, "\x00")
			case "hash":
				h := c.HGetAll(ctx, k).Val()
				var kv []string
				for f, v := range h {
					kv = append(kv, f+"="+v)
				}
				sort.Strings(kv)
				d = enc + " hash " + strings.Join(kv, "\x00")
			}
		}
		ttl, err := c.PTTL(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		m[k] = item{d, ttl}
	}
	return m
}

// same compares two snapshots key by key: DUMP payloads equal, TTLs both
// absent or within a minute (the expiry is absolute; only time passes).
func same(t testing.TB, want, got map[string]item, rename func(string) string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%d keys, want %d", len(got), len(want))
	}
	for k, w := range want {
		g, ok := got[rename(k)]
		if !ok {
			t.Errorf("key %q missing", rename(k))
			continue
		}
		if g.dump != w.dump {
			t.Errorf("key %q: value differs", k)
		}
		if (w.ttl < 0) != (g.ttl < 0) || (w.ttl-g.ttl).Abs() > time.Minute {
			t.Errorf("key %q: ttl %v, want %v", k, g.ttl, w.ttl)
		}
	}
}

func rename(ns, to string) func(string) string {
	return func(k string) string { return to + strings.TrimPrefix(k, ns) }
}

func plainManager(t testing.TB, dir string) *backup.Manager {
	t.Helper()
	m, err := backup.NewLocal(dir, backup.Config{Compression: backup.None, Plaintext: true, Checkers: redispart.Checkers()})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// loadServer starts a private redis-server on the RDB file path and
// returns a client of it.
func loadServer(t testing.TB, path string) *redis.Client {
	t.Helper()
	port := freePort(t)
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "no", "--dir", filepath.Dir(path), "--dbfilename", filepath.Base(path), "--protected-mode", "no")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(port), MaxRetries: -1})
	t.Cleanup(func() { _ = c.Close() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return c
		}
		select {
		case <-done:
			t.Fatalf("redis-server exited on %s: %s", path, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on %s: %v\n%s", path, err, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func checkRDB(t testing.TB, path string) {
	t.Helper()
	out, err := exec.Command("redis-check-rdb", path).CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("RDB looks OK")) {
		t.Fatalf("redis-check-rdb %s: %v\n%s", path, err, out)
	}
}

// TestSourceLoadsInRedis backs up every type from a single node and the
// Cluster, checks the part with redis-check-rdb, loads it in a
// redis-server and compares key by key, then restores the single node's
// part into the Cluster under a renamed prefix.
func TestSourceLoadsInRedis(t *testing.T) {
	ctx := context.Background()
	for _, mode := range []string{"single", "cluster"} {
		t.Run(mode, func(t *testing.T) {
			var c redis.UniversalClient
			if mode == "single" {
				c = testenv.Redis(t)
			} else {
				c = testenv.RedisCluster(t)
			}
			ns := testenv.Namespace(t) + ":"
			keys := fill(t, c, ns)
			want := snapshot(t, c, keys)
			if len(want) != len(keys) {
				t.Fatalf("%d keys written, %d read", len(keys), len(want))
			}
			dir := t.TempDir()
			m := plainManager(t, dir)
			man, err := m.Backup(ctx, []backup.Part{{Name: "redis", Source: &redispart.Source{Client: c, Match: ns + "*", Batch: 7}}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			p := man.Parts[0]
			if p.Kind != "redis" || p.Format != "rdb" || p.FormatVersion != 10 || p.Records != int64(len(keys)) ||
				p.Counts["stream"] != 1 || p.Counts["expires"] != 4 || p.Counts["string"] != 6 {
				t.Fatalf("part %+v", p)
			}
			if rep, err := m.Verify(ctx, man.ID); err != nil || !rep.Parts[0].Parsed || rep.Parts[0].Stats.Records != p.Records {
				t.Fatalf("verify %+v %v", rep, err)
			}
			path := filepath.Join(dir, man.ID, p.Object)
			checkRDB(t, path)
			loaded := loadServer(t, path)
			same(t, want, snapshot(t, loaded, keys), func(k string) string { return k })
			if n := loaded.DBSize(ctx).Val(); n != int64(len(keys)) {
				t.Errorf("loaded server holds %d keys, want %d", n, len(keys))
			}

			// Restore into the Cluster under another prefix.
			cl := testenv.RedisCluster(t)
			to := testenv.Namespace(t) + "-restored:"
			st, err := m.Restore(ctx, man.ID, "redis", redispart.Restorer{Client: cl, Prefix: ns, Rename: to, Batch: 5})
			if err != nil {
				t.Fatal(err)
			}
			if st.Records != int64(len(keys)) {
				t.Fatalf("restored %+v", st)
			}
			var renamed []string
			for _, k := range keys {
				renamed = append(renamed, rename(ns, to)(k))
			}
			same(t, want, snapshot(t, cl, renamed), rename(ns, to))
		})
	}
}

// TestRestoreBGSAVE restores a real server's SAVE dump.rdb (plain and
// gzipped as Lucid's Python service stores it) and what redis-cli --rdb
// fetches, into a private server each.
func TestRestoreBGSAVE(t *testing.T) {
	ctx := context.Background()
	src := testenv.StartRedis(t)
	sc := redis.NewClient(&redis.Options{Addr: src.Addr()})
	defer sc.Close()
	keys := fill(t, sc, "")
	for _, k := range []string{"12345", "-99", "7"} { // int-encoded key names
		if err := sc.Set(ctx, k, k+"-value", 0).Err(); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	// Expires 10 minutes from now: saved in the dump, expired for a
	// restore whose clock says 11 minutes later.
	if err := sc.Set(ctx, "gone", "soon", 10*time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if err := sc.Do(ctx, "function", "load", "#!lua name=lucidtest\nredis.register_function('f', function() return 1 end)").Err(); err != nil {
		t.Fatal(err)
	}
	want := snapshot(t, sc, keys)
	if err := sc.Save(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	dir := sc.ConfigGet(ctx, "dir").Val()["dir"]
	raw, err := os.ReadFile(filepath.Join(dir, "dump.rdb"))
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(raw)
	_ = zw.Close()

	st, err := redispart.Count(ctx, bytes.NewReader(raw))
	if err != nil || st.Records != int64(len(keys))+1 {
		t.Fatalf("count %+v %v", st, err)
	}
	// What `redis-cli --rdb` fetches (the server's diskless dump).
	if err := sc.ConfigSet(ctx, "repl-diskless-sync-delay", "0").Err(); err != nil {
		t.Fatal(err)
	}
	host, port, _ := strings.Cut(src.Addr(), ":")
	cliPath := filepath.Join(t.TempDir(), "cli.rdb")
	if o, err := exec.Command("redis-cli", "-h", host, "-p", port, "--rdb", cliPath).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --rdb: %v\n%s", err, o)
	}
	cli, err := os.ReadFile(cliPath)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"dump.rdb": raw, "dump.rdb.gz": gz.Bytes(), "redis-cli--rdb": cli} {
		t.Run(name, func(t *testing.T) {
			dst := testenv.StartRedis(t)
			dc := redis.NewClient(&redis.Options{Addr: dst.Addr()})
			defer dc.Close()
			st, err := redispart.Restorer{Client: dc, Now: func() time.Time { return time.Now().Add(11 * time.Minute) }}.RestoreRDB(ctx, bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if st.Restored != int64(len(keys)) || st.Expired != 1 || st.File.Records != int64(len(keys))+1 {
				t.Fatalf("restored %+v", st)
			}
			same(t, want, snapshot(t, dc, keys), func(k string) string { return k })
			if n := dc.DBSize(ctx).Val(); n != int64(len(keys)) {
				t.Fatalf("%d keys", n)
			}
		})
	}
	// Keys whose expiry has passed are skipped.
	dst := testenv.StartRedis(t)
	dc := redis.NewClient(&redis.Options{Addr: dst.Addr()})
	defer dc.Close()
	rs, err := redispart.Restorer{Client: dc, Prefix: "str:", Now: func() time.Time { return time.Now().Add(3 * time.Hour) }}.RestoreRDB(ctx, bytes.NewReader(raw))
	if err != nil || rs.Restored != 3 || rs.Expired != 2 || rs.Filtered != rs.File.Records-5 {
		t.Fatalf("restore with a late clock: %+v %v", rs, err)
	}
}

// TestSourceStoppedMidBackup stops the server during the part: the backup
// fails, no manifest is written and nothing is listed.
func TestSourceStoppedMidBackup(t *testing.T) {
	ctx := context.Background()
	p := testenv.StartRedis(t)
	c := redis.NewClient(&redis.Options{Addr: p.Addr(), MaxRetries: -1})
	defer c.Close()
	for i := range 200 {
		if err := c.Set(ctx, "k"+strconv.Itoa(i), i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	calls := 0
	src := &redispart.Source{Client: c, Batch: 5, Now: func() time.Time {
		if calls++; calls == 3 {
			p.Stop()
		}
		return time.Now()
	}}
	dir := t.TempDir()
	m := plainManager(t, dir)
	if _, err := m.Backup(ctx, []backup.Part{{Name: "redis", Source: src}}, nil); err == nil {
		t.Fatal("backup succeeded with its server stopped")
	}
	if l, err := m.List(ctx); err != nil || len(l) != 0 {
		t.Fatalf("list %v %v", l, err)
	}
	if inc, err := m.Incomplete(ctx); err != nil || len(inc) != 0 {
		t.Fatalf("incomplete %v %v", inc, err)
	}
}

// TestRestoreRefusesModuleMidFile: a module value after a good key fails
// the restore with ErrUnsupported naming it; nothing is reported as
// success, and the key still in the unsent batch is not written.
func TestRestoreRefusesModuleMidFile(t *testing.T) {
	ctx := context.Background()
	p := testenv.StartRedis(t)
	c := redis.NewClient(&redis.Options{Addr: p.Addr()})
	defer c.Close()
	data := []byte("REDIS0010\xfe\x00\x00\x01a\x01v\x07\x01m\x00\x00\x00\x00\x00\x00\x00\x00\xff\x00\x00\x00\x00\x00\x00\x00\x00")
	rs, err := redispart.Restorer{Client: c}.RestoreRDB(ctx, bytes.NewReader(data))
	if !errors.Is(err, backup.ErrUnsupported) || !strings.Contains(err.Error(), "module value (type 7)") {
		t.Fatalf("%v", err)
	}
	if rs.Restored != 0 || c.DBSize(ctx).Val() != 0 {
		t.Fatalf("restored %+v, %d keys", rs, c.DBSize(ctx).Val())
	}
	// A newer RDB version than this package reads: refused before any key.
	_, err = redispart.Restorer{Client: c}.RestoreRDB(ctx, strings.NewReader("REDIS0013\xfe\x00\xff"))
	if !errors.Is(err, backup.ErrUnsupported) || !strings.Contains(err.Error(), "RDB version 13") {
		t.Fatalf("%v", err)
	}
}

// TestStandardToolsRecipe follows the package doc's recipe on an
// encrypted, zstd-compressed part: age -d | zstd -d > dump.rdb, then
// redis-check-rdb and a redis-server on it.
func TestStandardToolsRecipe(t *testing.T) {
	for _, tool := range []string{"age", "zstd", "bash"} {
		if _, err := exec.LookPath(tool); err != nil {
			if testenv.Required() {
				t.Fatalf("%s not installed (LUCID_REQUIRE_SERVERS=1)", tool)
			}
			t.Skipf("%s not installed", tool)
		}
	}
	ctx := context.Background()
	c := testenv.Redis(t)
	ns := testenv.Namespace(t) + ":"
	keys := fill(t, c, ns)
	want := snapshot(t, c, keys)
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	m, err := backup.NewLocal(dir, backup.Config{Recipients: []age.Recipient{id.Recipient()}, Identities: []age.Identity{id},
		Checkers: redispart.Checkers()})
	if err != nil {
		t.Fatal(err)
	}
	man, err := m.Backup(ctx, []backup.Part{{Name: "redis", Source: &redispart.Source{Client: c, Match: ns + "*"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Verify(ctx, man.ID); err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(t.TempDir(), "key.txt")
	if err := os.WriteFile(key, []byte(id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	obj := filepath.Join(dir, man.ID, man.Parts[0].Object)
	cmd := "age -d -i " + key + " " + obj + " | zstd -q -d > " + filepath.Join(out, "dump.rdb")
	if o, err := exec.Command("bash", "-o", "pipefail", "-c", cmd).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, o)
	}
	checkRDB(t, filepath.Join(out, "dump.rdb"))
	same(t, want, snapshot(t, loadServer(t, filepath.Join(out, "dump.rdb")), keys), func(k string) string { return k })
}

// TestEmptyKeyspace: a server without keys gives an RDB that Verify,
// redis-check-rdb and redis-server accept.
func TestEmptyKeyspace(t *testing.T) {
	ctx := context.Background()
	p := testenv.StartRedis(t)
	c := redis.NewClient(&redis.Options{Addr: p.Addr()})
	defer c.Close()
	dir := t.TempDir()
	m := plainManager(t, dir)
	part := redispart.Part("redis", c)
	man, err := m.Backup(ctx, []backup.Part{part}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if man.Parts[0].Records != 0 || man.Parts[0].FormatVersion != 9 {
		t.Fatalf("%+v", man.Parts[0])
	}
	if _, err := m.Verify(ctx, man.ID); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, man.ID, man.Parts[0].Object)
	checkRDB(t, path)
	if n := loadServer(t, path).DBSize(ctx).Val(); n != 0 {
		t.Fatalf("%d keys", n)
	}
	// The same Source asks the server again on its next backup.
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	man, err = m.Backup(ctx, []backup.Part{part}, nil)
	if err != nil || man.Parts[0].Records != 1 || man.Parts[0].FormatVersion != 10 {
		t.Fatalf("second backup %+v %v", man, err)
	}
}

// TestPrefixes backs up only the keys under a few prefixes (one covering
// another, one full of glob characters that must match literally) on a
// single node and the Cluster, then restores one family of them under a
// new name with Include: exactly the selected keys arrive, equal.
func TestPrefixes(t *testing.T) {
	ctx := context.Background()
	for _, mode := range []string{"single", "cluster"} {
		t.Run(mode, func(t *testing.T) {
			var c redis.UniversalClient
			if mode == "single" {
				c = testenv.Redis(t)
			} else {
				c = testenv.RedisCluster(t)
			}
			ns := testenv.Namespace(t) + ":"
			a, b, other := fill(t, c, ns+"a:"), fill(t, c, ns+"b:"), fill(t, c, ns+"c:")
			// A prefix of glob characters, and keys (3 and 4) that its
			// characters would match as a pattern but not byte for byte.
			glob := ns + `g*[x]?\:`
			var literal []string
			for _, k := range []string{glob + "1", glob + "2", ns + "gAAxB:3", ns + "g*x?:4", ns + `g\*[x]?\:5`} {
				if err := c.Set(ctx, k, k, 0).Err(); err != nil {
					t.Fatal(err)
				}
				if strings.HasPrefix(k, glob) {
					literal = append(literal, k)
				}
			}
			all := append(append(append([]string{}, a...), b...), other...)
			want := snapshot(t, c, all)
			selected := append(append(append([]string{}, a...), b...), literal...)

			m := plainManager(t, t.TempDir())
			src := &redispart.Source{Client: c, Prefixes: []string{ns + "b:", ns + "a:", ns + "a:hash:", glob, ns + "b:"}, Batch: 5}
			man, err := m.Backup(ctx, []backup.Part{{Name: "redis", Source: src}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			p := man.Parts[0]
			wantMeta, _ := json.Marshal([]string{ns + "a:", ns + "b:", glob})
			if p.Records != int64(len(selected)) || p.Meta[redispart.MetaPrefixes] != string(wantMeta) {
				t.Fatalf("part: %d records (want %d), meta %v", p.Records, len(selected), p.Meta)
			}

			// Everything selected, nothing else, into a private server.
			dst := testenv.StartRedis(t)
			dc := redis.NewClient(&redis.Options{Addr: dst.Addr()})
			defer dc.Close()
			if _, err := m.Restore(ctx, man.ID, "redis", redispart.Restorer{Client: dc}); err != nil {
				t.Fatal(err)
			}
			if n := dc.DBSize(ctx).Val(); n != int64(len(selected)) {
				t.Fatalf("%d keys restored, want %d", n, len(selected))
			}
			wantSel := map[string]item{}
			for _, k := range append(append([]string{}, a...), b...) {
				wantSel[k] = want[k]
			}
			got := snapshot(t, dc, append(append([]string{}, a...), b...))
			same(t, wantSel, got, func(k string) string { return k })
			for _, k := range literal {
				if v := dc.Get(ctx, k).Val(); v != k {
					t.Errorf("key %q: %q", k, v)
				}
			}

			// One family out of the part, renamed: Include narrows Prefix.
			to := testenv.Namespace(t) + "-b:"
			rs, err := redispart.Restorer{Client: c, Prefix: ns, Rename: to, Include: []string{ns + "b:"}}.RestoreRDB(ctx, openPart(t, m, man))
			if err != nil {
				t.Fatal(err)
			}
			if rs.Restored != int64(len(b)) || rs.Filtered != int64(len(selected)-len(b)) || rs.File.Records != int64(len(selected)) {
				t.Fatalf("include: %+v", rs)
			}
			wantB := map[string]item{}
			var renamed []string
			for _, k := range b {
				wantB[k] = want[k]
				renamed = append(renamed, rename(ns, to)(k))
			}
			same(t, wantB, snapshot(t, c, renamed), rename(ns, to))
			if n, err := c.Exists(ctx, rename(ns, to)(a[0])).Result(); err != nil || n != 0 {
				t.Fatalf("a key Include left out was restored: %d %v", n, err)
			}

			// Match and Prefixes together are refused.
			_, err = m.Backup(ctx, []backup.Part{{Name: "redis", Source: &redispart.Source{Client: c, Match: ns + "*", Prefixes: []string{ns}}}}, nil)
			if !errors.Is(err, backup.ErrInvalid) {
				t.Fatalf("Match and Prefixes: %v", err)
			}
		})
	}
}

// openPart returns the plaintext of a backup's only part (plainManager's
// backups are neither compressed nor encrypted).
func openPart(t testing.TB, m *backup.Manager, man *backup.Manifest) io.Reader {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(m.Sink().(*backup.LocalSink).Dir(), man.ID, man.Parts[0].Object))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(b)
}

// TestClusterMasterKilledMidBackup kills one master of a private 3-master
// Cluster while the part streams the first master's keys: the backup fails
// naming the part, no manifest is written, nothing is listed and no object
// stays in the sink. With the master back, the same Source backs up every
// key.
func TestClusterMasterKilledMidBackup(t *testing.T) {
	ctx := context.Background()
	cl := testenv.StartRedisCluster(t)
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: cl.Addrs()})
	defer c.Close()
	const n = 3000
	for i := 0; i < n; i += 100 {
		if _, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for j := i; j < i+100; j++ {
				p.Set(ctx, "k"+strconv.Itoa(j), j, 0)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	// The victim's process, by the id it reports: a node this test
	// started. SAVE first, so that its keys come back with it (the nodes
	// run without persistence).
	victim := redis.NewClient(&redis.Options{Addr: cl.Addrs()[0]})
	info, err := victim.Info(ctx, "server").Result()
	if err == nil {
		err = victim.Save(ctx).Err()
	}
	victim.Close()
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	for _, l := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "process_id:"); ok {
			pid, _ = strconv.Atoi(v)
		}
	}
	if pid <= 0 {
		t.Fatalf("no process_id in INFO: %q", info)
	}
	calls := 0
	src := &redispart.Source{Client: c, Batch: 10, Now: func() time.Time {
		// Now is read once per batch: the third batch is well inside the
		// first master's ~1000 keys, whichever master that is.
		if calls++; calls == 3 {
			if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
				t.Errorf("kill %d: %v", pid, err)
			}
		}
		return time.Now()
	}}
	m := plainManager(t, t.TempDir())
	_, err = m.Backup(ctx, []backup.Part{{Name: "redis", Source: src}}, nil)
	if err == nil {
		t.Fatal("backup succeeded with a master killed")
	}
	t.Logf("backup error: %v", err)
	if calls < 3 {
		t.Fatalf("the part ended after %d batches, before the kill", calls)
	}
	var be *backup.Error
	if !errors.As(err, &be) || be.Part != "redis" {
		t.Fatalf("error does not name the part: %v", err)
	}
	if l, err := m.List(ctx); err != nil || len(l) != 0 {
		t.Fatalf("list %v %v", l, err)
	}
	if inc, err := m.Incomplete(ctx); err != nil || len(inc) != 0 {
		t.Fatalf("incomplete %v %v", inc, err)
	}
	err = filepath.WalkDir(m.Sink().(*backup.LocalSink).Dir(), func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			t.Errorf("sink holds %s", path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	// The master back (its nodes.conf keeps its slots and its SAVEd keys
	// load), the same Source takes every key. Start restarts the nodes
	// testenv has seen exit: wait until the victim is reaped, and ask
	// again if testenv had not noticed yet.
	for syscall.Kill(pid, 0) == nil {
		time.Sleep(50 * time.Millisecond)
	}
	for attempt := 1; ; attempt++ {
		err := cl.Start()
		if err == nil {
			break
		}
		if attempt == 3 {
			t.Fatal(err)
		}
		t.Logf("restart, attempt %d: %v", attempt, err)
	}
	src.Now = nil
	var man *backup.Manifest
	for attempt := 0; ; attempt++ {
		// The client learns the restarted node's connections anew; a
		// first attempt may still meet a dead pooled one.
		if man, err = m.Backup(ctx, []backup.Part{{Name: "redis", Source: src}}, nil); err == nil || attempt == 2 {
			break
		}
		t.Logf("backup after restart, attempt %d: %v", attempt+1, err)
		time.Sleep(time.Second)
	}
	if err != nil {
		t.Fatal(err)
	}
	if man.Parts[0].Records != n || man.Parts[0].Meta[redispart.MetaMasters] != "3" {
		t.Fatalf("after restart: %+v", man.Parts[0])
	}
}

// TestRestoreDBs restores one database out of a server's dump.rdb that
// holds two, with a key name used in both.
func TestRestoreDBs(t *testing.T) {
	ctx := context.Background()
	src := testenv.StartRedis(t)
	for db, kv := range map[int][]string{0: {"k", "from db 0", "only0", "x"}, 3: {"k", "from db 3", "only3", "y"}} {
		c := redis.NewClient(&redis.Options{Addr: src.Addr(), DB: db})
		for i := 0; i < len(kv); i += 2 {
			if err := c.Set(ctx, kv[i], kv[i+1], 0).Err(); err != nil {
				t.Fatal(err)
			}
		}
		c.Close()
	}
	sc := redis.NewClient(&redis.Options{Addr: src.Addr()})
	defer sc.Close()
	if err := sc.Save(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(sc.ConfigGet(ctx, "dir").Val()["dir"], "dump.rdb"))
	if err != nil {
		t.Fatal(err)
	}
	dst := testenv.StartRedis(t)
	dc := redis.NewClient(&redis.Options{Addr: dst.Addr()})
	defer dc.Close()
	rs, err := redispart.Restorer{Client: dc, DBs: []int{3}}.RestoreRDB(ctx, bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if rs.Restored != 2 || rs.Filtered != 2 || rs.File.Records != 4 {
		t.Fatalf("restore of db 3: %+v", rs)
	}
	if v := dc.Get(ctx, "k").Val(); v != "from db 3" || dc.Exists(ctx, "only3").Val() != 1 || dc.DBSize(ctx).Val() != 2 {
		t.Fatalf("db 3 restored as k=%q, %d keys", v, dc.DBSize(ctx).Val())
	}
}
