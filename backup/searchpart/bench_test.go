//go:build !lucidfuzz

package searchpart_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/HamiGames/lucid-data/backup/searchpart"
	"github.com/HamiGames/lucid-data/internal/testenv"
	"github.com/HamiGames/lucid-data/search"
)

// BenchmarkSearchPartVsElasticdump reads one index of benchDocs documents
// to a file, interleaved with `elasticdump --type=data` of the same index
// (LUCID_ELASTICDUMP names the binary: npm install elasticdump). Both write
// plain NDJSON, uncompressed; docs/s is derived from the ns/op reported.
func BenchmarkSearchPartVsElasticdump(b *testing.B) {
	tool := os.Getenv("LUCID_ELASTICDUMP")
	if tool == "" {
		b.Skip("LUCID_ELASTICDUMP not set")
	}
	const benchDocs = 20000
	ctx := context.Background()
	srv := testenv.Search(b)
	c, err := search.Connect(ctx, search.Config{Addresses: []string{srv.URL}})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	index := testenv.Namespace(b) + "-lucid-sessions-2026.11"
	if err := c.CreateIndex(ctx, index, search.IndexSpec{Settings: map[string]any{"number_of_shards": 1, "number_of_replicas": 0}}); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = c.DeleteIndex(context.Background(), index) }()
	bulk := c.NewBulkIndexer(search.BulkConfig{})
	var failed atomic.Int64
	for i := range benchDocs {
		doc := map[string]any{"session_id": fmt.Sprintf("s%06d", i), "user_id": fmt.Sprintf("u%03d", i%500), "status": "active",
			"created_at": "2026-11-02T03:04:05Z", "note": strings.Repeat("x", 200), "n": i}
		if err := bulk.Add(ctx, search.BulkItem{Index: index, ID: fmt.Sprintf("s%06d", i), Body: doc,
			OnFailure: func(search.BulkItem, search.BulkItemResult, error) { failed.Add(1) }}); err != nil {
			b.Fatal(err)
		}
	}
	if err := bulk.Close(ctx); err != nil || failed.Load() != 0 {
		b.Fatalf("seed: %v, %d failed", err, failed.Load())
	}
	if err := c.Refresh(ctx, index); err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	src := searchpart.Source{Client: c, Indices: []string{index}}
	sdk := func(i int) error {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("sdk-%d.tar", i)))
		if err != nil {
			return err
		}
		defer os.Remove(f.Name())
		defer f.Close()
		st, err := src.Stream(ctx, f)
		if err == nil && st.Records != benchDocs {
			err = fmt.Errorf("%d documents", st.Records)
		}
		return err
	}
	peer := func(i int) error {
		out := filepath.Join(dir, fmt.Sprintf("dump-%d.json", i))
		defer os.Remove(out)
		cmd := exec.Command(tool, "--input="+srv.URL+"/"+index, "--output="+out, "--type=data", "--limit=1000", "--quiet")
		if o, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("elasticdump: %v: %s", err, o)
		}
		return nil
	}
	// Interleaved, alternating which goes first, so load on this shared
	// machine falls on both (internal/bench/pair is a module of its own,
	// which this one cannot import).
	var tSDK, tPeer time.Duration
	timed := func(f func(int) error, i int, acc *time.Duration) {
		t0 := time.Now()
		if err := f(i); err != nil {
			b.Fatal(err)
		}
		*acc += time.Since(t0)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if i%2 == 0 {
			timed(sdk, i, &tSDK)
			timed(peer, i, &tPeer)
		} else {
			timed(peer, i, &tPeer)
			timed(sdk, i, &tSDK)
		}
	}
	n := float64(b.N)
	b.ReportMetric(float64(tSDK.Nanoseconds())/n, "sdk-ns/op")
	b.ReportMetric(float64(tPeer.Nanoseconds())/n, "peer-ns/op")
	b.ReportMetric(benchDocs*n/tSDK.Seconds(), "sdk-docs/s")
	b.ReportMetric(benchDocs*n/tPeer.Seconds(), "peer-docs/s")
	b.ReportMetric(tPeer.Seconds()/tSDK.Seconds(), "speedup-x")
}
