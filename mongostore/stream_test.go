//go:build !lucidfuzz

package mongostore_test

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/HamiGames/lucid-data/internal/testenv"
	"github.com/HamiGames/lucid-data/lucidkeys"
	"github.com/HamiGames/lucid-data/mongostore"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func fill(t *testing.T, db *mongostore.DB, coll lucidkeys.Collection, n int) {
	t.Helper()
	ctx := ctxT(t)
	const batch = 1000
	docs := make([]any, 0, batch)
	pad := string(make([]byte, 100))
	for i := 0; i < n; i++ {
		docs = append(docs, bson.D{{Key: "_id", Value: int64(i)}, {Key: "pad", Value: pad}})
		if len(docs) == batch || i == n-1 {
			if _, err := db.InsertMany(ctx, coll, docs); err != nil {
				t.Fatalf("InsertMany at %d: %v", i, err)
			}
			docs = docs[:0]
		}
	}
}

func heapInuse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

func TestStream100kBoundedMemory(t *testing.T) {
	ctx := ctxT(t)
	db := connect(t, mongostore.Config{})
	// 100k documents take about 8 s to insert and 17 s to stream on the
	// in-process FerretDB; under the race detector the same server runs
	// about ten times slower (the insert alone took 86 s, 20k documents
	// took 22 s to insert and 34 s to stream), so a -race run streams 10k
	// documents, which still proves the bound: growth stays at about one
	// batch (150 KiB) while the whole result would be 1.5 MiB.
	n := 100_000
	if raceEnabled {
		n = 10_000
	}
	start := time.Now()
	fill(t, db, "stream", n)
	t.Logf("inserted %d documents in %v", n, time.Since(start))

	before := heapInuse()
	var peak uint64
	count := 0
	var last int64 = -1
	start = time.Now()
	for doc, err := range db.Stream(ctx, "stream", mongostore.All, &mongostore.FindOptions{BatchSize: 1000}) {
		if err != nil {
			t.Fatalf("Stream after %d: %v", count, err)
		}
		id := doc.Lookup("_id").Int64()
		if id != last+1 {
			t.Fatalf("out of order: %d after %d", id, last)
		}
		last = id
		count++
		if count%5000 == 0 {
			if h := heapInuse(); h > peak {
				peak = h
			}
		}
	}
	if count != n {
		t.Fatalf("streamed %d, want %d", count, n)
	}
	growth := int64(peak) - int64(before)
	t.Logf("streamed %d documents in %v; HeapInuse before %d KiB, peak %d KiB, growth %d KiB", n, time.Since(start), before>>10, peak>>10, growth>>10)
	// All documents decoded at once would take > n*150 bytes (15 MiB for
	// 100k, 3 MiB for 20k); streaming holds about one batch (150 KiB).
	if limit := int64(n) * 150 / 2; growth > limit {
		t.Errorf("heap grew by %d KiB while streaming %d documents, want bounded (< %d KiB)", growth>>10, n, limit>>10)
	}
}

func TestStreamCtxCancelMidCursor(t *testing.T) {
	ctx := ctxT(t)
	db := connect(t, mongostore.Config{})
	fill(t, db, "stream", 500)
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	got := 0
	var last error
	for _, err := range db.Stream(cctx, "stream", mongostore.All, &mongostore.FindOptions{BatchSize: 10}) {
		if err != nil {
			last = err
			break
		}
		got++
		if got == 50 {
			cancel()
		}
	}
	if !errors.Is(last, context.Canceled) {
		t.Fatalf("after cancel: %v (got %d docs), want context.Canceled", last, got)
	}
	if got < 50 || got >= 500 {
		t.Errorf("got %d documents before the cancel took effect", got)
	}
	// The typed iterator behaves the same.
	cctx2, cancel2 := context.WithCancel(ctx)
	defer cancel2()
	type doc struct {
		ID int64 `bson:"_id"`
	}
	got = 0
	last = nil
	docs, err := mongostore.NewCollection[doc](db, "stream")
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range docs.All(cctx2, mongostore.All, &mongostore.FindOptions{BatchSize: 10}) {
		if err != nil {
			last = err
			break
		}
		got++
		if got == 25 {
			cancel2()
		}
	}
	if !errors.Is(last, context.Canceled) {
		t.Fatalf("typed after cancel: %v", last)
	}
}

func TestServerStoppedMidStream(t *testing.T) {
	ctx := ctxT(t)
	srv := testenv.StartMongo(t)
	db := connect(t, mongostore.Config{URI: srv.URI(), ServerSelectionTimeout: time.Second, Retry: mongostore.RetryPolicy{MaxAttempts: 1}})
	fill(t, db, "stream", 3000)
	got := 0
	var last error
	for _, err := range db.Stream(ctx, "stream", mongostore.All, &mongostore.FindOptions{BatchSize: 100}) {
		if err != nil {
			last = err
			break
		}
		got++
		if got == 250 {
			srv.Stop()
		}
	}
	if last == nil {
		t.Fatalf("stream finished (%d docs) although the server stopped", got)
	}
	if !errors.Is(last, mongostore.ErrUnavailable) {
		t.Errorf("mid-stream error = %v, want ErrUnavailable", last)
	}
	t.Logf("stream stopped after %d docs: %v", got, last)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	waitReconnectCount(t, db, "stream", 3000)
}

func TestConcurrentWriters(t *testing.T) {
	ctx := ctxT(t)
	db := connect(t, mongostore.Config{MaxPoolSize: 8})
	if _, err := db.EnsureSchema(ctx); err != nil {
		t.Fatal(err)
	}
	const writers, each = 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, writers*each*2)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				n := w*each + i + 1
				if _, err := db.InsertOne(ctx, lucidkeys.CollSessions, goodDocs(n)[lucidkeys.CollSessions]); err != nil {
					errs <- err
				}
				// Every writer also races for the same session id: exactly
				// one of them wins.
				if i == 0 {
					_, err := db.InsertOne(ctx, lucidkeys.CollSessions, set(goodDocs(100000 + w)[lucidkeys.CollSessions], "session_id", "sess_shared_0123456789"))
					if err != nil && !errors.Is(err, mongostore.ErrDuplicate) {
						errs <- err
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	n, err := db.Count(ctx, lucidkeys.CollSessions, mongostore.All)
	if err != nil || n != writers*each+1 {
		t.Errorf("Count = %d, %v; want %d", n, err, writers*each+1)
	}
}
