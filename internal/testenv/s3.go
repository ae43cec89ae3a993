package testenv

import (
	"context"
	"crypto/rand"
	"debug/buildinfo"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/HamiGames/lucid-data/internal/testenv/launch"
)

// Environment variables naming an external S3-compatible endpoint.
const (
	S3EndpointEnv  = "LUCID_TEST_S3_ENDPOINT" // http://host:port
	S3AccessKeyEnv = "LUCID_TEST_S3_ACCESS_KEY"
	S3SecretKeyEnv = "LUCID_TEST_S3_SECRET_KEY"
	S3RegionEnv    = "LUCID_TEST_S3_REGION" // default us-east-1
)

// S3Server is an S3-compatible endpoint and a bucket of the test's own.
type S3Server struct {
	Endpoint  string
	Region    string
	AccessKey string
	SecretKey string
	Bucket    string
	Product   string // e.g. "versitygw"
	Version   string // e.g. "v1.8.0", when known
}

// Client returns an S3 client for the endpoint (path-style addressing).
func (s S3Server) Client() *s3.Client {
	return s3.New(s3.Options{
		BaseEndpoint: aws.String(s.Endpoint),
		HTTPClient:   httpClient,
		Region:       s.Region,
		Credentials:  credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
		UsePathStyle: true,
	})
}

var sharedS3 once[S3Server]

// S3 returns the shared S3 endpoint of this test binary with a fresh bucket
// that is emptied and removed when t ends.
func S3(t testing.TB) S3Server {
	t.Helper()
	srv, err := sharedS3.get(findS3)
	if err != nil {
		unavailable(t, "S3", err)
	}
	announce(t, "S3", srv.Product, srv.Version, srv.Endpoint)
	srv.Bucket = Namespace(t)
	c := srv.Client()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &srv.Bucket}); err != nil {
		t.Fatalf("testenv: create bucket %s: %v", srv.Bucket, err)
	}
	t.Cleanup(func() { emptyAndRemoveBucket(c, srv.Bucket) })
	return srv
}

func emptyAndRemoveBucket(c *s3.Client, bucket string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: &bucket})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			break
		}
		for _, o := range page.Contents {
			_, _ = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: o.Key})
		}
	}
	ups, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &bucket})
	if err == nil {
		for _, u := range ups.Uploads {
			_, _ = c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &bucket, Key: u.Key, UploadId: u.UploadId})
		}
	}
	_, _ = c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: &bucket})
}

func findS3() (S3Server, error) {
	region := os.Getenv(S3RegionEnv)
	if region == "" {
		region = "us-east-1"
	}
	if ep := os.Getenv(S3EndpointEnv); ep != "" {
		return S3Server{Endpoint: ep, Region: region, Product: s3Product(ep),
			AccessKey: os.Getenv(S3AccessKeyEnv), SecretKey: os.Getenv(S3SecretKeyEnv)}, nil
	}
	// No official S3 image is pinned for Docker: versitygw runs locally.
	dir, err := os.MkdirTemp("", "lucid-s3-")
	if err != nil {
		return S3Server{}, err
	}
	onShutdown(func() { _ = os.RemoveAll(dir) })
	if err := os.Mkdir(dir+"/data", 0o755); err != nil {
		return S3Server{}, err
	}
	port, err := freePort()
	if err != nil {
		return S3Server{}, err
	}
	access, secret := randomHex(10), randomHex(20)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	p, err := launch.Start("versitygw", dir, "--access", access, "--secret", secret,
		"--region", region, "--port", addr, "--quiet", "posix", dir+"/data")
	if err != nil {
		return S3Server{}, err
	}
	onShutdown(func() { p.Stop(5 * time.Second) })
	if err := p.WaitTCP(addr, 30*time.Second); err != nil {
		return S3Server{}, err
	}
	srv := S3Server{Endpoint: "http://" + addr, Region: region, AccessKey: access, SecretKey: secret,
		Product: "versitygw", Version: binaryVersion("versitygw")}
	// One authenticated call proves the gateway answers S3, not just TCP.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := srv.Client().ListBuckets(ctx, &s3.ListBucketsInput{}); err != nil {
		return S3Server{}, fmt.Errorf("versitygw on %s: ListBuckets: %w", addr, err)
	}
	return srv, nil
}

// s3Product reads the endpoint's Server header (versitygw names itself).
func s3Product(endpoint string) string {
	resp, err := httpClient.Get(endpoint)
	if err != nil {
		return "unknown"
	}
	resp.Body.Close()
	if s := resp.Header.Get("Server"); s != "" {
		return s
	}
	return "S3-compatible"
}

// binaryVersion reads the module version a Go binary was built from
// (`go install ...@v1.8.0` records it even when the binary's own --version
// says "git").
func binaryVersion(name string) string {
	path, err := exec.LookPath(name)
	if err != nil {
		return ""
	}
	bi, err := buildinfo.ReadFile(path)
	if err != nil {
		return ""
	}
	return bi.Main.Version
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// S3Process is a versitygw of one test's own, which the test may stop (a
// crash: SIGKILL) and start again on the same port and data directory, for
// fault tests. Its Server has a fresh bucket.
type S3Process struct {
	Server S3Server
	t      testing.TB
	dir    string
	addr   string
	region string
	p      *launch.Process
}

// StartS3 starts a private versitygw (posix backend) for t, stopped when t
// ends. It needs the versitygw binary: an external endpoint cannot be
// stopped at will.
func StartS3(t testing.TB) *S3Process {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(dir+"/data", 0o755); err != nil {
		t.Fatal(err)
	}
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	region := "us-east-1"
	s := &S3Process{t: t, dir: dir, addr: "127.0.0.1:" + strconv.Itoa(port), region: region}
	s.Server = S3Server{Endpoint: "http://" + s.addr, Region: region, AccessKey: randomHex(10), SecretKey: randomHex(20),
		Product: "versitygw", Version: binaryVersion("versitygw"), Bucket: Namespace(t)}
	if err := s.start(); err != nil {
		unavailable(t, "S3 (own versitygw)", err)
	}
	t.Cleanup(s.Stop)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.Server.Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &s.Server.Bucket}); err != nil {
		t.Fatalf("testenv: create bucket %s: %v", s.Server.Bucket, err)
	}
	return s
}

func (s *S3Process) start() error {
	p, err := launch.Start("versitygw", s.dir, "--access", s.Server.AccessKey, "--secret", s.Server.SecretKey,
		"--region", s.region, "--port", s.addr, "--quiet", "posix", s.dir+"/data")
	if err != nil {
		return err
	}
	if err := p.WaitTCP(s.addr, 30*time.Second); err != nil {
		p.Stop(time.Second)
		return err
	}
	s.p = p
	return nil
}

// Stop kills the gateway at once, as a crash would. It is idempotent.
func (s *S3Process) Stop() {
	if s.p != nil {
		s.p.Stop(0)
		s.p = nil
	}
}

// Restart starts the gateway again on the same port and data directory.
func (s *S3Process) Restart() {
	s.t.Helper()
	s.Stop()
	var err error
	for i := 0; i < 20; i++ { // the port may linger a moment after the kill
		if err = s.start(); err == nil {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	s.t.Fatalf("testenv: restart versitygw: %v", err)
}
