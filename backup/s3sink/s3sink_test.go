//go:build !lucidfuzz

package s3sink_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/HamiGames/lucid-data/backup"
	"github.com/HamiGames/lucid-data/backup/s3sink"
	"github.com/HamiGames/lucid-data/backup/volumepart"
	"github.com/HamiGames/lucid-data/errkind"
	"github.com/HamiGames/lucid-data/internal/testenv"
	"github.com/HamiGames/lucid-data/internal/testlog"
)

func sinkFor(t testing.TB, srv testenv.S3Server, log *slog.Logger) *s3sink.Sink {
	t.Helper()
	// A client of the test's own, whose idle connections go with the test
	// (goleak checks for their goroutines).
	hc := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	t.Cleanup(hc.CloseIdleConnections)
	s, err := s3sink.New(s3sink.Config{HTTPClient: hc, Bucket: srv.Bucket, Prefix: "lucid/", Endpoint: srv.Endpoint, Region: srv.Region,
		AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, UsePathStyle: true, PartSize: 5 << 20, Concurrency: 2,
		AbortTimeout: 5 * time.Second, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func manager(t testing.TB, sink backup.Sink) (*backup.Manager, *age.X25519Identity) {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	m, err := backup.New(sink, backup.Config{Level: 1, Recipients: []age.Recipient{id.Recipient()}, Identities: []age.Identity{id}, Checkers: volumepart.Checkers()})
	if err != nil {
		t.Fatal(err)
	}
	return m, id
}

// randomSource writes size random (incompressible) bytes; progress, when
// set, is called with the bytes written so far.
type randomSource struct {
	size     int64
	progress func(int64)
}

func (r randomSource) Describe() backup.SourceInfo {
	return backup.SourceInfo{Kind: "random", Format: "bin"}
}

func (r randomSource) Stream(ctx context.Context, w io.Writer) (backup.Stats, error) {
	buf := make([]byte, 256<<10)
	var n int64
	for n < r.size {
		rand.Read(buf)
		k := min(int64(len(buf)), r.size-n)
		if _, err := w.Write(buf[:k]); err != nil {
			return backup.Stats{}, err
		}
		n += k
		if r.progress != nil {
			r.progress(n)
		}
	}
	return backup.Stats{Records: 1}, nil
}

func TestS3RoundTrip(t *testing.T) {
	ctx := context.Background()
	srv := testenv.S3(t)
	sink := sinkFor(t, srv, nil)
	m, _ := manager(t, sink)
	vol := t.TempDir()
	for i, size := range []int{0, 1, 12 << 20} {
		if err := os.WriteFile(filepath.Join(vol, "f"+string(rune('a'+i))), bytes.Repeat([]byte{byte(i)}, size), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.Symlink("fa", filepath.Join(vol, "link"))
	man, err := m.Backup(ctx, []backup.Part{
		volumepart.Part("volume", vol),
		{Name: "random", Source: randomSource{size: 17 << 20}}, // multipart: 4 parts of 5 MiB
		{Name: "small", Source: randomSource{size: 1000}},      // one PutObject
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Verify(ctx, man.ID); err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	if _, err := m.Restore(ctx, man.ID, "volume", volumepart.Restorer{Dir: dst}); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dst, "fc")); err != nil || len(b) != 12<<20 {
		t.Fatalf("restored fc: %d bytes, %v", len(b), err)
	}
	l, err := m.List(ctx)
	if err != nil || len(l) != 1 || l[0].ID != man.ID {
		t.Fatalf("list %v %v", l, err)
	}
	// Keys sit under the prefix.
	out, err := srv.Client().ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &srv.Bucket})
	if err != nil {
		t.Fatal(err)
	}
	objects := 0
	for _, o := range out.Contents {
		switch {
		case strings.HasPrefix(*o.Key, "lucid/"+man.ID+"/"):
			objects++
		case strings.HasPrefix(*o.Key, "lucid/_records/verify/"+man.ID+"-"): // Verify's record
		default:
			t.Fatalf("key %s", *o.Key)
		}
	}
	if objects != 4 {
		t.Fatalf("%d objects", objects)
	}
	// Objects are written once.
	w, err := sink.Create(ctx, man.ID+"/"+backup.ManifestName)
	if err == nil {
		w.Abort()
		t.Fatal("created over an existing manifest")
	}
	if !errors.Is(err, backup.ErrExists) {
		t.Fatalf("create existing: %v", err)
	}
	// Corruption on S3: a replaced object.
	p, _ := man.Part("small")
	key := "lucid/" + man.ID + "/" + p.Object
	if _, err := srv.Client().PutObject(ctx, &s3.PutObjectInput{Bucket: &srv.Bucket, Key: &key, Body: bytes.NewReader(make([]byte, p.Stored.Size))}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Verify(ctx, man.ID); !errors.Is(err, backup.ErrCorrupt) || !strings.Contains(err.Error(), `part "small"`) {
		t.Fatalf("verify replaced object: %v", err)
	}
	if err := m.Delete(ctx, man.ID); err != nil {
		t.Fatal(err)
	}
	if out, _ := srv.Client().ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &srv.Bucket}); len(out.Contents) != 0 {
		t.Fatalf("%d objects after delete", len(out.Contents))
	}
	if _, err := m.Open(ctx, man.ID); !errors.Is(err, backup.ErrNotFound) {
		t.Fatalf("open deleted: %v", err)
	}
}

func uploadsLeft(t *testing.T, srv testenv.S3Server) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := srv.Client().ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &srv.Bucket})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.Uploads)
}

func objectsLeft(t *testing.T, srv testenv.S3Server) int {
	t.Helper()
	out, err := srv.Client().ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: &srv.Bucket})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.Contents)
}

// A cancelled backup aborts its multipart upload and writes no manifest.
func TestS3Cancelled(t *testing.T) {
	srv := testenv.S3(t)
	m, _ := manager(t, sinkFor(t, srv, nil))
	ctx, cancel := context.WithCancel(context.Background())
	var once atomic.Bool
	_, err := m.Backup(ctx, []backup.Part{
		{Name: "small", Source: randomSource{size: 100}},
		{Name: "big", Source: randomSource{size: 64 << 20, progress: func(n int64) {
			if n > 20<<20 && once.CompareAndSwap(false, true) {
				cancel()
			}
		}}},
	}, nil)
	if !errors.Is(err, context.Canceled) || errkind.Of(err) != errkind.Canceled {
		t.Fatalf("cancelled backup: %v", err)
	}
	if n := uploadsLeft(t, srv); n != 0 {
		t.Fatalf("%d multipart uploads left", n)
	}
	if n := objectsLeft(t, srv); n != 0 {
		t.Fatalf("%d objects left", n)
	}
	if l, err := m.List(context.Background()); err != nil || len(l) != 0 {
		t.Fatalf("list %v %v", l, err)
	}
}

// versitygw killed mid-upload: the backup fails, no manifest; once the
// gateway is back the sink's next call aborts the upload it could not
// abort before, and nothing is listed.
func TestS3StoppedMidUpload(t *testing.T) {
	proc := testenv.StartS3(t)
	srv := proc.Server
	var logs bytes.Buffer
	sink := sinkFor(t, srv, slog.New(slog.NewTextHandler(&logs, nil)))
	m, _ := manager(t, sink)
	var once atomic.Bool
	_, err := m.Backup(context.Background(), []backup.Part{
		{Name: "big", Source: randomSource{size: 64 << 20, progress: func(n int64) {
			if n > 20<<20 && once.CompareAndSwap(false, true) {
				proc.Stop()
			}
		}}},
	}, nil)
	if err == nil {
		t.Fatal("backup succeeded with the gateway down")
	}
	t.Logf("error with the gateway down: %v", err)
	if strings.Contains(err.Error(), srv.SecretKey) || strings.Contains(logs.String(), srv.SecretKey) {
		t.Fatal("secret key in the error or logs")
	}
	if sink.PendingAborts() != 1 {
		t.Fatalf("%d pending aborts, want the one the gateway could not take", sink.PendingAborts())
	}
	proc.Restart()
	if n := uploadsLeft(t, srv); n != 1 {
		t.Fatalf("%d multipart uploads after restart, want the unaborted one", n)
	}
	l, err := m.List(context.Background()) // retries the pending abort
	if err != nil || len(l) != 0 {
		t.Fatalf("list %v %v", l, err)
	}
	if n := uploadsLeft(t, srv); n != 0 {
		t.Fatalf("%d multipart uploads left after restart", n)
	}
	if sink.PendingAborts() != 0 {
		t.Fatalf("%d aborts still pending", sink.PendingAborts())
	}
	if n := objectsLeft(t, srv); n != 0 {
		t.Fatalf("%d objects left", n)
	}
}

// AbortIncomplete cleans up what a crashed process left.
func TestS3AbortIncomplete(t *testing.T) {
	ctx := context.Background()
	srv := testenv.S3(t)
	sink := sinkFor(t, srv, nil)
	key := "lucid/20260101T000000Z-00000000/x.bin"
	if _, err := srv.Client().CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &srv.Bucket, Key: &key}); err != nil {
		t.Fatal(err)
	}
	if n, err := sink.AbortIncomplete(ctx, time.Hour); err != nil || n != 0 {
		t.Fatalf("young upload aborted: %d %v", n, err)
	}
	if n, err := sink.AbortIncomplete(ctx, 0); err != nil || n != 1 {
		t.Fatalf("abort incomplete: %d %v", n, err)
	}
	if n := uploadsLeft(t, srv); n != 0 {
		t.Fatalf("%d left", n)
	}
}

// Credentials never appear in errors or logs; an endpoint with a password
// is refused without being echoed.
func TestS3SecretsStayOut(t *testing.T) {
	ctx := context.Background()
	srv := testenv.S3(t)
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	bad := srv
	bad.SecretKey = "wrong-secret-key-0123456789"
	m, _ := manager(t, sinkFor(t, bad, log))
	_, err := m.Backup(ctx, []backup.Part{{Name: "x", Source: randomSource{size: 10}}}, nil)
	if err == nil {
		t.Fatal("backup with a wrong secret succeeded")
	}
	log.Info("cfg", "cfg", s3sink.Config{SecretKey: bad.SecretKey, AccessKey: bad.AccessKey})
	all := err.Error() + logs.String()
	if strings.Contains(all, bad.SecretKey) || strings.Contains(all, srv.SecretKey) {
		t.Fatalf("secret leaked: %s", all)
	}
	_, err = s3sink.New(s3sink.Config{Bucket: "b", Endpoint: "http://user:hunter2pass@127.0.0.1:1"})
	if !errors.Is(err, backup.ErrInvalid) || strings.Contains(err.Error(), "hunter2pass") {
		t.Fatalf("endpoint with a password: %v", err)
	}
}

// Every log line of the AWS SDK goes to the sink's *slog.Logger: the
// client's own (a checksum warning on reading a multipart object) and the
// transfer manager's failed completion, which it writes with the global
// log.Printf unless the sink intercepts it. Nothing reaches the global
// logger, and the failed upload is still aborted.
func TestSDKLogsThroughSlog(t *testing.T) {
	ctx := testenv.Context(t)
	srv := testenv.S3(t)
	var global testlog.Buffer
	log.SetOutput(&global)
	defer log.SetOutput(os.Stderr)
	var lines testlog.Buffer
	logger := slog.New(slog.NewTextHandler(&lines, &slog.HandlerOptions{Level: slog.LevelDebug}))
	sink := sinkFor(t, srv, logger)

	id := "20260101T000000Z-0123abcd"
	name := id + "/data.bin"
	data := make([]byte, 12<<20) // three parts of 5 MiB: a multipart upload
	rand.Read(data)

	// A failed completion: the key appears (another writer) while the
	// upload runs, so CompleteMultipartUpload fails its If-None-Match.
	w, err := sink.Create(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	c := srv.Client()
	key := "lucid/" + name
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &srv.Bucket, Key: &key, Body: bytes.NewReader([]byte("other"))}); err != nil {
		t.Fatal(err)
	}
	err = w.Commit()
	if err == nil {
		t.Fatal("commit over an object written meanwhile succeeded")
	}
	t.Logf("commit: %v", err)
	if !strings.Contains(lines.String(), "multipart upload not completed") {
		t.Fatalf("the failed completion is not in the sink's log:\n%s", lines.String())
	}
	ups, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &srv.Bucket})
	if err != nil {
		t.Fatal(err)
	}
	if len(ups.Uploads) != 0 || sink.PendingAborts() != 0 {
		t.Fatalf("%d uploads left, %d aborts pending", len(ups.Uploads), sink.PendingAborts())
	}

	// The SDK's own lines: reading back an object stored without a
	// checksum (written by a client that sends none), the SDK notes that
	// it cannot validate the response.
	name2 := id + "/data2.bin"
	key2 := "lucid/" + name2
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &srv.Bucket, Key: &key2, Body: bytes.NewReader(data)},
		func(o *s3.Options) { o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired }); err != nil {
		t.Fatal(err)
	}
	r, err := sink.Open(ctx, name2)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	r.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes, %v", len(got), err)
	}
	// The SDK's own lines, asked for by LogMode.
	var sdkLines testlog.Buffer
	hc := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	t.Cleanup(hc.CloseIdleConnections)
	sink2, err := s3sink.New(s3sink.Config{HTTPClient: hc, Bucket: srv.Bucket, Prefix: "lucid/", Endpoint: srv.Endpoint, Region: srv.Region,
		AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, UsePathStyle: true, LogMode: aws.LogResponse | aws.LogRetries,
		Logger: slog.New(slog.NewTextHandler(&sdkLines, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := sink2.Size(ctx, name2); err != nil || n != int64(len(data)) {
		t.Fatalf("size %d %v", n, err)
	}
	if !strings.Contains(sdkLines.String(), "s3sink: aws sdk: Response") || !strings.Contains(sdkLines.String(), "200 OK") {
		t.Fatalf("no line of the AWS SDK in the sink's log:\n%s", sdkLines.String())
	}
	if strings.Contains(sdkLines.String(), srv.SecretKey) {
		t.Fatal("the secret key was logged")
	}
	for _, mode := range []aws.ClientLogMode{aws.LogRequest, aws.LogSigning, aws.LogRequestWithBody} {
		if _, err := s3sink.New(s3sink.Config{Bucket: "b", LogMode: mode}); !errors.Is(err, backup.ErrInvalid) {
			t.Fatalf("log mode %v: %v", mode, err)
		}
	}
	if global.String() != "" {
		t.Fatalf("the global logger was written to:\n%s", global.String())
	}
}
