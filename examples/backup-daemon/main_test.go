//go:build !lucidfuzz

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.uber.org/goleak"

	"github.com/HamiGames/lucid-data/backup"
	"github.com/HamiGames/lucid-data/backup/schedule"
	"github.com/HamiGames/lucid-data/backup/system"
	"github.com/HamiGames/lucid-data/internal/testenv"
	"github.com/HamiGames/lucid-data/lucidkeys"
	"github.com/HamiGames/lucid-data/search"
	"github.com/HamiGames/lucid-data/volume"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(testenv.M(m)) }

// client keeps no idle connection, so none outlives the test (goleak).
var client = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 30 * time.Second}

func do(t *testing.T, method, url string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// eventually polls f every 100 ms for up to 3 minutes (a full set on a
// loaded 2-core machine under -race).
func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	for end := time.Now().Add(3 * time.Minute); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if f() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// env points every FromEnv of the daemon at the test servers, under a
// namespace of the test's own, and seeds a little of each kind of data.
type env struct {
	ns, backups, root string
	mongo             *testenv.MongoProcess // private, so a test can stop it
}

func setup(t *testing.T) env {
	t.Helper()
	ctx := testenv.Context(t)
	e := env{ns: testenv.Namespace(t), backups: t.TempDir(), root: t.TempDir(), mongo: testenv.StartMongo(t)}
	uri := e.mongo.URI()
	sep := "?"
	if strings.Contains(uri, "?") {
		sep = "&"
	}
	// A stopped server fails a backup within seconds, not the driver's 30.
	uri += sep + "serverSelectionTimeoutMS=2000"
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(t.TempDir(), "key.txt")
	if err := os.WriteFile(key, []byte(id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := testenv.Search(t)
	for k, v := range map[string]string{
		system.EnvDir: e.backups, system.EnvIdentity: key, system.EnvRedisMatch: e.ns + ":*", system.EnvSchedule: "0 2 * * *",
		system.EnvEncryption: "", system.EnvStorageType: "", system.EnvRecipients: "", system.EnvPassphrase: "", system.EnvParts: "",
		"LUCID_MONGO_URI": uri, "LUCID_MONGO_DATABASE": e.ns, "LUCID_REDIS_URL": testenv.RedisURL(t),
		"LUCID_SEARCH_URL": srv.URL, "LUCID_SEARCH_INDEX_PREFIX": e.ns + "-", "LUCID_VOLUME_ROOT": e.root,
	} {
		t.Setenv(k, v)
	}

	mc := testenv.MongoClient(t, e.mongo.URI())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = mc.Database(e.ns).Drop(ctx)
	})
	var docs []any
	for i := range 20 {
		docs = append(docs, bson.D{{Key: "_id", Value: i}, {Key: "v", Value: fmt.Sprint("note ", i)}})
	}
	if _, err := mc.Database(e.ns).Collection("notes").InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	rc := testenv.Redis(t)
	t.Cleanup(func() {
		keys, _ := rc.Keys(context.Background(), e.ns+":*").Result()
		if len(keys) > 0 {
			rc.Del(context.Background(), keys...)
		}
	})
	for i := range 20 {
		rc.Set(ctx, fmt.Sprintf("%s:a:%d", e.ns, i), i, 0)
	}
	sc, err := search.Connect(ctx, search.Config{Addresses: []string{srv.URL}, IndexPrefix: e.ns + "-", Transport: &http.Transport{DisableKeepAlives: true}})
	if err != nil {
		t.Fatal(err)
	}
	ix, _ := sc.MonthlyIndex(lucidkeys.EntitySessions, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	if err := sc.CreateIndex(ctx, ix, search.IndexSpec{Settings: map[string]any{"number_of_shards": 1, "number_of_replicas": 0}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sc.DeleteIndex(context.Background(), ix); _ = sc.Close() })
	for i := range 10 {
		if _, err := sc.Index(ctx, ix, fmt.Sprint(i), map[string]any{"n": i}, nil); err != nil {
			t.Fatal(err)
		}
	}
	vols, err := volume.New(volume.Config{Root: e.root})
	if err != nil {
		t.Fatal(err)
	}
	v, err := vols.Create(ctx, "chunks", lucidkeys.VolumeChunks, 16<<20)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(v.Path, "c1"), bytes.Repeat([]byte("chunk"), 1000), 0o640); err != nil {
		t.Fatal(err)
	}
	return e
}

// TestDaemon starts the daemon against the test servers, triggers a run
// over HTTP, reads /status and /metrics, stops it with its ctx, and then runs
// the one-shot commands on what it wrote: -list, -verify, -restore with
// part filters into scratch names, and -once.
func TestDaemon(t *testing.T) {
	e := setup(t)
	var logs lockedBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-job", e.ns, "-poll", "200ms"}, io.Discard, log, func(a string) { addrc <- a })
	}()
	var base string
	select {
	case a := <-addrc:
		base = "http://" + a
	case err := <-done:
		t.Fatalf("run: %v\n%s", err, logs.String())
	}

	code, body := do(t, http.MethodGet, base+"/status")
	if code != 200 || !strings.Contains(body, `"schedule":"0 2 * * *"`) {
		t.Fatalf("status before any run: %d %s", code, body)
	}
	if code, body := do(t, http.MethodPost, base+"/run"); code != http.StatusAccepted {
		t.Fatalf("POST /run: %d %s", code, body)
	}
	var st struct {
		LastOK *schedule.Run `json:"last_ok"`
		Parts  map[string]struct {
			Bytes    int64 `json:"bytes"`
			Failures int64 `json:"failures"`
		} `json:"parts"`
		Next time.Time `json:"next"`
	}
	eventually(t, "a good run in /status", func() bool {
		_, body = do(t, http.MethodGet, base+"/status")
		st.LastOK = nil
		if err := json.Unmarshal([]byte(body), &st); err != nil {
			t.Fatalf("status %q: %v", body, err)
		}
		if strings.Contains(body, `"status":"failed"`) {
			t.Fatalf("the run failed: %s\n%s", body, logs.String())
		}
		return st.LastOK != nil
	})
	if st.LastOK.Status != schedule.StatusOK || st.LastOK.Parts != 4 || st.LastOK.Backup == "" || !st.LastOK.Manual || st.Next.IsZero() {
		t.Fatalf("status %s", body)
	}
	for _, p := range []string{"mongodb", "redis", "search", "volume-chunks"} {
		if st.Parts[p].Bytes <= 0 || st.Parts[p].Failures != 0 {
			t.Fatalf("part %s in status: %+v (%s)", p, st.Parts[p], body)
		}
	}
	_, metrics := do(t, http.MethodGet, base+"/metrics")
	for _, want := range []string{
		`lucid_backup_part_last_success_timestamp_seconds{part="mongodb"}`,
		`lucid_backup_part_last_duration_seconds{part="search"}`,
		`lucid_backup_part_last_bytes{part="volume-chunks"}`,
		`lucid_backup_part_failures_total{part="redis"} 0`,
		`lucid_backup_runs_total{status="ok"} 1`,
		`lucid_backup_runs_total{status="failed"} 0`,
		`lucid_backup_last_run_failed 0`,
		"lucid_backup_last_success_timestamp_seconds ",
		"lucid_backup_last_bytes ",
	} {
		if !strings.Contains(metrics, want) {
			t.Fatalf("metrics lack %s:\n%s", want, metrics)
		}
	}
	// A check that misses the aggregator's deadline on a loaded machine
	// reports down for that round: ready once a round answers in time.
	eventually(t, "/readyz 200", func() bool {
		code, _ := do(t, http.MethodGet, base+"/readyz")
		return code == 200
	})

	// MongoDB down: the next run fails, counted against the mongodb part
	// only (the parts it cancelled did not fail), and the newest record
	// says so; the last good run is still the one before.
	e.mongo.Stop()
	if code, body := do(t, http.MethodPost, base+"/run"); code != http.StatusAccepted {
		t.Fatalf("POST /run: %d %s", code, body)
	}
	eventually(t, "a failed run in the metrics", func() bool {
		_, metrics = do(t, http.MethodGet, base+"/metrics")
		return strings.Contains(metrics, `lucid_backup_runs_total{status="failed"} 1`)
	})
	for _, want := range []string{
		`lucid_backup_part_failures_total{part="mongodb"} 1`,
		`lucid_backup_part_failures_total{part="redis"} 0`,
		`lucid_backup_part_failures_total{part="volume-chunks"} 0`,
		`lucid_backup_runs_total{status="ok"} 1`,
		`lucid_backup_last_run_failed 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Fatalf("metrics lack %s:\n%s", want, metrics)
		}
	}
	_, body = do(t, http.MethodGet, base+"/status")
	if !strings.Contains(body, `"status":"failed"`) || !strings.Contains(body, st.LastOK.Backup) {
		t.Fatalf("status after the failed run: %s", body)
	}
	if err := e.mongo.Start(); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v\n%s", err, logs.String())
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("the daemon did not stop")
	}
	id := st.LastOK.Backup

	var list []*backup.Manifest
	oneShot(t, &list, "-list")
	if len(list) != 1 || list[0].ID != id || list[0].Labels[system.LabelSet] != system.SetFull || list[0].Labels[schedule.LabelJob] != e.ns {
		t.Fatalf("-list: %+v", list)
	}
	var rep backup.Report
	oneShot(t, &rep, "-verify", id)
	if rep.ID != id || len(rep.Parts) != 4 {
		t.Fatalf("-verify: %+v", rep)
	}
	for _, p := range rep.Parts {
		if !p.Parsed {
			t.Fatalf("-verify did not parse %s", p.Name)
		}
	}

	var rr system.RestoreReport
	oneShot(t, &rr, "-restore", id, "-parts", "redis,volume", "-redis-prefix", e.ns+":a:", "-redis-rename", e.ns+":a:="+e.ns+":r:",
		"-volume-rename", "chunks=chunks-scratch", "-verify-first")
	if len(rr.Parts) != 2 {
		t.Fatalf("-restore: %+v", rr)
	}
	rc := testenv.Redis(t)
	for i := range 20 {
		if v, err := rc.Get(context.Background(), fmt.Sprintf("%s:r:%d", e.ns, i)).Result(); err != nil || v != fmt.Sprint(i) {
			t.Fatalf("restored key %d: %q %v", i, v, err)
		}
	}
	b, err := os.ReadFile(filepath.Join(e.root, "chunks-scratch", "c1"))
	if err != nil || !bytes.Equal(b, bytes.Repeat([]byte("chunk"), 1000)) {
		t.Fatalf("restored volume file: %d bytes, %v", len(b), err)
	}

	var r schedule.Run
	oneShot(t, &r, "-once", "-job", e.ns)
	if r.Status != schedule.StatusOK || r.Backup == "" || r.Backup == id {
		t.Fatalf("-once: %+v", r)
	}
}
