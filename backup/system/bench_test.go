//go:build !lucidfuzz

package system_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"filippo.io/age"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/HamiGames/lucid-data/backup"
	"github.com/HamiGames/lucid-data/backup/system"
	"github.com/HamiGames/lucid-data/cache"
	"github.com/HamiGames/lucid-data/internal/testenv"
	"github.com/HamiGames/lucid-data/lucidkeys"
	"github.com/HamiGames/lucid-data/mongostore"
	"github.com/HamiGames/lucid-data/search"
	"github.com/HamiGames/lucid-data/volume"
)

// benchScale reads the data set's size: LUCID_BENCH_DOCS documents in
// MongoDB, as many Redis keys and search documents, and LUCID_BENCH_VOLUME_MIB
// MiB of volume files. The design's target set is 100000 and 1024; the defaults
// are a tenth and a sixteenth of it so that a plain -bench run stays short.
func benchScale(b *testing.B) (docs, volMiB int) {
	docs, volMiB = 10000, 64
	if v, err := strconv.Atoi(os.Getenv("LUCID_BENCH_DOCS")); err == nil && v > 0 {
		docs = v
	}
	if v, err := strconv.Atoi(os.Getenv("LUCID_BENCH_VOLUME_MIB")); err == nil && v > 0 {
		volMiB = v
	}
	return docs, volMiB
}

// seedBench fills a data tier of its own with docs Mongo documents (about
// 300 bytes of BSON each), docs Redis strings (100 bytes), docs search
// documents and a volume of volMiB MiB of mixed file sizes: 60 % of the
// bytes in files of a 32nd of the volume each, 30 % in 256 KiB files and 10 %
// in 4 KiB files, half of each file random and half text.
func seedBench(b testing.TB, docs, volMiB int) system.Sources {
	ctx := context.Background()
	ns := testenv.Namespace(b)
	db, err := mongostore.Connect(ctx, mongostore.Config{URI: testenv.MongoURI(b), Database: ns})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Client().Database(ns).Drop(ctx); _ = db.Close(ctx) })
	coll := db.Client().Database(ns).Collection("events")
	batch := make([]any, 0, 1000)
	for i := range docs {
		batch = append(batch, bson.D{{Key: "_id", Value: i}, {Key: "user_id", Value: fmt.Sprintf("user-%06d", i%5000)},
			{Key: "at", Value: bson.DateTime(1700000000000 + int64(i))}, {Key: "n", Value: int64(i)},
			{Key: "text", Value: fmt.Sprintf("event %d of the benchmark data set, with some words to compress %x", i, rand.Uint64())},
			{Key: "tags", Value: bson.A{"a", "b", i % 7}}, {Key: "pad", Value: string(make([]byte, 120))}})
		if len(batch) == cap(batch) || i == docs-1 {
			if _, err := coll.InsertMany(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}

	rc, err := cache.Connect(ctx, cache.Config{URL: testenv.RedisURL(b)})
	if err != nil {
		b.Fatal(err)
	}
	r := rc.Redis()
	b.Cleanup(func() {
		for i := 0; i < docs; i += 1000 {
			var keys []string
			for j := i; j < min(i+1000, docs); j++ {
				keys = append(keys, fmt.Sprintf("%s:k:%d", ns, j))
			}
			r.Del(ctx, keys...)
		}
		_ = rc.Close()
	})
	p := r.Pipeline()
	for i := range docs {
		p.Set(ctx, fmt.Sprintf("%s:k:%d", ns, i), fmt.Sprintf("%090d%010x", i, rand.Uint32()), 0)
		if p.Len() == 1000 || i == docs-1 {
			if _, err := p.Exec(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}

	srv := testenv.Search(b)
	sc, err := search.Connect(ctx, search.Config{Addresses: []string{srv.URL}, IndexPrefix: ns + "-", Transport: &http.Transport{DisableKeepAlives: true}})
	if err != nil {
		b.Fatal(err)
	}
	ix, _ := sc.MonthlyIndex(lucidkeys.EntitySessions, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	if err := sc.CreateIndex(ctx, ix, search.IndexSpec{Settings: map[string]any{"number_of_shards": 1, "number_of_replicas": 0, "refresh_interval": "-1"}}); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = sc.DeleteIndex(ctx, ix); _ = sc.Close() })
	bi := sc.NewBulkIndexer(search.BulkConfig{})
	for i := range docs {
		body, _ := json.Marshal(map[string]any{"user_id": fmt.Sprintf("user-%06d", i%5000), "n": i, "title": fmt.Sprintf("session %d", i),
			"created_at": time.Unix(1700000000+int64(i), 0).UTC()})
		if err := bi.Add(ctx, search.BulkItem{Index: ix, ID: strconv.Itoa(i), Body: json.RawMessage(body)}); err != nil {
			b.Fatal(err)
		}
	}
	if err := bi.Close(ctx); err != nil {
		b.Fatal(err)
	}
	if st := bi.Stats(); st.Failed > 0 {
		b.Fatalf("bulk: %+v", st)
	}
	if err := sc.Refresh(ctx, ix); err != nil {
		b.Fatal(err)
	}

	vols, err := volume.New(volume.Config{Root: b.TempDir(), MaxQuota: 1 << 40})
	if err != nil {
		b.Fatal(err)
	}
	v, err := vols.Create(ctx, "chunks", lucidkeys.VolumeChunks, int64(volMiB)<<21)
	if err != nil {
		b.Fatal(err)
	}
	total := int64(volMiB) << 20
	rng := rand.NewChaCha8([32]byte{1})
	write := func(name string, size int64) {
		buf := make([]byte, size)
		_, _ = rng.Read(buf[:size/2])
		for i := size / 2; i < size; i++ {
			buf[i] = "lucid volume data "[i%18]
		}
		if err := os.WriteFile(filepath.Join(v.Path, name), buf, 0o640); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 19 { // 60 %: 32nds of the volume
		write(fmt.Sprintf("large-%02d", i), total/32)
	}
	for i := range int(total * 3 / 10 / (256 << 10)) {
		_ = os.MkdirAll(filepath.Join(v.Path, "m", strconv.Itoa(i%16)), 0o750)
		write(filepath.Join("m", strconv.Itoa(i%16), strconv.Itoa(i)), 256<<10)
	}
	for i := range int(total / 10 / 4096) {
		_ = os.MkdirAll(filepath.Join(v.Path, "s", strconv.Itoa(i%64)), 0o750)
		write(filepath.Join("s", strconv.Itoa(i%64), strconv.Itoa(i)), 4096)
	}
	return system.Sources{Mongo: db, Cache: rc, RedisMatch: ns + ":*", Search: sc, Volumes: vols}
}

// BenchmarkFullSet takes full system backup sets of the seeded tier (zstd
// level 3 and age, as FromEnv's defaults) to a local directory and to S3
// (versitygw on loopback), parts one after the other (Parallel 1, where each
// part's time is its own) and all four at once. Besides ns/op it reports
// each part's seconds (from the manifest's part times) and the set's stored
// MB:
//
//	LUCID_BENCH_DOCS=100000 LUCID_BENCH_VOLUME_MIB=1024 go test -run '^$' -bench FullSet -benchtime 1x -count 5 ./backup/system
func BenchmarkFullSet(b *testing.B) {
	docs, volMiB := benchScale(b)
	src := seedBench(b, docs, volMiB)
	b.Logf("data set: %d Mongo documents, %d Redis keys, %d search documents, a %d MiB volume", docs, docs, docs, volMiB)
	for _, where := range []string{"local", "s3"} {
		for _, par := range []int{1, 4} {
			b.Run(fmt.Sprintf("%s/parallel=%d", where, par), func(b *testing.B) {
				var sink backup.Sink
				if where == "local" {
					s, err := backup.NewLocalSink(b.TempDir())
					if err != nil {
						b.Fatal(err)
					}
					sink = s
				} else {
					sink = benchS3(b)
				}
				m := benchManager(b, sink)
				sys, err := system.New(m, src)
				if err != nil {
					b.Fatal(err)
				}
				ctx := context.Background()
				secs := map[string]float64{}
				var stored int64
				for b.Loop() {
					man, err := sys.Backup(ctx, &backup.BackupOptions{Parallel: par})
					if err != nil {
						b.Fatal(err)
					}
					for _, p := range man.Parts {
						secs[p.Name] += p.End.Sub(p.Start).Seconds()
					}
					stored += man.Size()
					b.StopTimer()
					if err := m.Delete(ctx, man.ID); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
				for name, s := range secs {
					b.ReportMetric(s/float64(b.N), name+"-s")
				}
				b.ReportMetric(float64(stored)/float64(b.N)/1e6, "stored-MB")
			})
		}
	}
}

func benchManager(b *testing.B, sink backup.Sink) *backup.Manager {
	b.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		b.Fatal(err)
	}
	m, err := backup.New(sink, backup.Config{Recipients: []age.Recipient{id.Recipient()}, Identities: []age.Identity{id}, Checkers: system.Checkers()})
	if err != nil {
		b.Fatal(err)
	}
	return m
}

func benchS3(b *testing.B) backup.Sink {
	b.Helper()
	srv := testenv.S3(b)
	cfg := system.Config{StorageType: system.StorageS3}
	cfg.S3.Bucket, cfg.S3.Endpoint, cfg.S3.Region, cfg.S3.AccessKey, cfg.S3.SecretKey, cfg.S3.UsePathStyle =
		srv.Bucket, srv.Endpoint, srv.Region, srv.AccessKey, srv.SecretKey, true
	hc := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	b.Cleanup(hc.CloseIdleConnections)
	cfg.S3.HTTPClient = hc
	s, err := cfg.Sink()
	if err != nil {
		b.Fatal(err)
	}
	return s
}
