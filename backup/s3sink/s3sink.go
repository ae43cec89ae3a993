// Package s3sink stores backups in an S3-compatible bucket through
// aws-sdk-go-v2: parts stream through the SDK's transfer manager
// (feature/s3/transfermanager) as multipart uploads, the manifest as one
// PutObject after every part's upload completed, so a backup appears in
// one step. A part that fails or is cancelled has its multipart upload
// aborted; an abort that cannot reach the endpoint (it is down) is kept
// and retried by the sink's next call, and [Sink.AbortIncomplete] cleans up
// uploads a crashed process left.
//
// It lives apart from backup so that importing backup links no AWS SDK.
package s3sink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	tm "github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"

	"github.com/HamiGames/lucid-data/backup"
)

// Config configures a Sink. Bucket is required; with no Client, Endpoint,
// Region and static credentials build one.
type Config struct {
	Bucket string
	// Prefix is prepended to every key ("lucid/backups/"); it must end in
	// "/" when set.
	Prefix string

	// Client is used when set (the escape hatch: any credential chain,
	// any middleware; a copy of it when Logger is set too); the fields
	// below up to PartSize are then ignored.
	Client *s3.Client
	// Endpoint of an S3-compatible service ("http://127.0.0.1:7070");
	// empty for AWS. It must not hold credentials.
	Endpoint string
	// Region (default "us-east-1").
	Region string
	// AccessKey, SecretKey and SessionToken are static credentials.
	AccessKey, SecretKey, SessionToken string
	// UsePathStyle addresses buckets as endpoint/bucket (MinIO,
	// versitygw, Ceph) instead of bucket.endpoint.
	UsePathStyle bool
	// HTTPClient for the built client (default: http.DefaultClient's
	// transport).
	HTTPClient *http.Client

	// PartSize of multipart uploads (default 8 MiB, at least 5 MiB) and
	// Concurrency, the parts in flight (default 3). Memory while a part is
	// written: PartSize × (Concurrency + 1).
	PartSize    int64
	Concurrency int
	// LogMode asks the SDK for more lines (aws.LogRetries,
	// aws.LogResponse, ...), which go to Logger at Debug. The request
	// and signing modes are refused: they would log the session token and
	// signed headers.
	LogMode aws.ClientLogMode
	// AbortTimeout bounds aborting an upload after a failure, with a
	// context of its own so that a cancelled backup still aborts (default
	// 30 s).
	AbortTimeout time.Duration
	// Logger (default: discard) receives the sink's own lines and, for a
	// client the sink builds, every line of the AWS SDK (smithy-go's
	// logging.Logger, warnings at Warn, the rest at Debug), and the
	// transfer manager's failed completions. With Client set too, the
	// sink uses a copy of that client logging to Logger. Credentials are
	// never logged.
	Logger *slog.Logger
}

// LogValue keeps secrets out of logs when a Config is logged.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(slog.String("bucket", c.Bucket), slog.String("prefix", c.Prefix),
		slog.String("endpoint", c.Endpoint), slog.Bool("path_style", c.UsePathStyle),
		slog.Bool("static_credentials", c.AccessKey != ""))
}

// Sink is a backup.Sink over one bucket and prefix.
type Sink struct {
	c       *s3.Client
	tm      *tm.Client
	bucket  string
	prefix  string
	abortTO time.Duration
	log     *slog.Logger

	mu      sync.Mutex
	pending []pendingAbort // aborts that failed, retried by the next call

	completeErrs sync.Map // upload ID → error of its CompleteMultipartUpload (see tmClient)
}

type pendingAbort struct{ key, uploadID string }

// tmClient is the S3 client as the transfer manager sees it. The transfer
// manager (v0.5.7) reports a failed CompleteMultipartUpload through the
// standard library's global log.Printf, which a library must not write to
// and a service cannot route; so a failed completion is kept here, keyed
// by upload ID, and the transfer manager is told it succeeded. Create
// then fails the upload with that error, logs it through the sink's
// Logger and aborts the multipart upload, as the transfer manager would
// have.
type tmClient struct {
	*s3.Client
	s *Sink
}

func (c *tmClient) CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, opts ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error) {
	out, err := c.Client.CompleteMultipartUpload(ctx, in, opts...)
	if err != nil && in.UploadId != nil {
		c.s.completeErrs.Store(*in.UploadId, err)
		return &s3.CompleteMultipartUploadOutput{Bucket: in.Bucket, Key: in.Key}, nil
	}
	return out, err
}

func (s *Sink) takeCompleteErr(uploadID string) error {
	if v, ok := s.completeErrs.LoadAndDelete(uploadID); ok {
		return v.(error)
	}
	return nil
}

// slogLogger routes the AWS SDK's log lines (smithy-go logging.Logger:
// retries, checksum warnings, whatever ClientLogMode asks for) to the
// sink's *slog.Logger instead of the SDK's default, which writes to
// stderr.
type slogLogger struct{ log *slog.Logger }

func (l slogLogger) Logf(c logging.Classification, format string, v ...any) {
	l.log.Log(context.Background(), sdkLevel(c), "s3sink: aws sdk: "+fmt.Sprintf(format, v...))
}

// WithContext lets the SDK pass the request's context along.
func (l slogLogger) WithContext(ctx context.Context) logging.Logger { return ctxLogger{l.log, ctx} }

type ctxLogger struct {
	log *slog.Logger
	ctx context.Context
}

func (l ctxLogger) Logf(c logging.Classification, format string, v ...any) {
	l.log.Log(l.ctx, sdkLevel(c), "s3sink: aws sdk: "+fmt.Sprintf(format, v...))
}

func sdkLevel(c logging.Classification) slog.Level {
	if c == logging.Warn {
		return slog.LevelWarn
	}
	return slog.LevelDebug
}

var _ backup.Sink = (*Sink)(nil)

// New returns a Sink. It makes no request.
func New(cfg Config) (*Sink, error) {
	invalid := func(msg string) error { return &backup.Error{Op: "s3 sink", Kind: backup.ErrInvalid, Msg: msg} }
	if cfg.Bucket == "" {
		return nil, invalid("no bucket")
	}
	if cfg.Prefix != "" && !strings.HasSuffix(cfg.Prefix, "/") {
		return nil, invalid("prefix must end in /")
	}
	if cfg.PartSize == 0 {
		cfg.PartSize = 8 << 20
	}
	if cfg.PartSize < 5<<20 {
		return nil, invalid("part size below S3's 5 MiB minimum")
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = 3
	}
	if cfg.Concurrency < 1 {
		return nil, invalid("concurrency below 1")
	}
	if cfg.LogMode&(aws.LogRequest|aws.LogRequestWithBody|aws.LogSigning|aws.LogRequestEventMessage) != 0 {
		return nil, invalid("log mode: request and signing logs would hold credentials")
	}
	if cfg.AbortTimeout == 0 {
		cfg.AbortTimeout = 30 * time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := cfg.Client
	if c == nil {
		if cfg.Endpoint != "" {
			u, err := url.Parse(cfg.Endpoint)
			if err != nil || u.User != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				// Never echo the endpoint: it might hold a password.
				return nil, invalid("endpoint must be http(s)://host[:port] without credentials")
			}
		}
		region := cfg.Region
		if region == "" {
			region = "us-east-1"
		}
		opts := s3.Options{Region: region, UsePathStyle: cfg.UsePathStyle, Logger: slogLogger{log}, ClientLogMode: cfg.LogMode}
		if cfg.Endpoint != "" {
			opts.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		if cfg.HTTPClient != nil {
			opts.HTTPClient = cfg.HTTPClient
		}
		if cfg.AccessKey != "" {
			opts.Credentials = credentials.NewStaticCredentialsProvider(cfg.AccessKey, cfg.SecretKey, cfg.SessionToken)
		}
		c = s3.New(opts)
	} else if cfg.Logger != nil {
		// The caller's client, with its every option, logging to Logger.
		c = s3.New(c.Options(), func(o *s3.Options) {
			o.Logger = slogLogger{log}
			o.ClientLogMode |= cfg.LogMode
		})
	}
	s := &Sink{c: c, bucket: cfg.Bucket, prefix: cfg.Prefix, abortTO: cfg.AbortTimeout, log: log}
	s.tm = tm.New(&tmClient{Client: c, s: s}, func(o *tm.Options) {
		o.PartSizeBytes = cfg.PartSize
		o.MultipartUploadThreshold = cfg.PartSize
		o.Concurrency = cfg.Concurrency
		o.FailTimeout = cfg.AbortTimeout
	})
	return s, nil
}

// Client returns the S3 client (the escape hatch).
func (s *Sink) Client() *s3.Client { return s.c }

func (s *Sink) key(name string) (string, error) {
	if err := backup.CheckName(name); err != nil {
		return "", err
	}
	return s.prefix + name, nil
}

// s3err classifies an SDK error once: ctx's error wins, a missing key is
// ErrNotFound, a failed If-None-Match ErrExists. The SDK's message names
// the operation and status, never the credentials.
func s3err(ctx context.Context, err error, op, name string) error {
	if err == nil {
		return nil
	}
	e := &backup.Error{Op: op, Msg: name, Err: err}
	if ctx.Err() != nil {
		if !errors.Is(err, ctx.Err()) {
			e.Err, e.Msg = ctx.Err(), name+": "+err.Error()
		}
		return e
	}
	var nk *types.NoSuchKey
	var nf *types.NotFound
	var ae smithy.APIError
	switch {
	case errors.As(err, &nk), errors.As(err, &nf):
		e.Kind = backup.ErrNotFound
	case errors.As(err, &ae) && (ae.ErrorCode() == "PreconditionFailed" || ae.ErrorCode() == "ConditionalRequestConflict"):
		e.Kind = backup.ErrExists
	case errors.As(err, &ae) && ae.ErrorCode() == "NoSuchBucket":
		e.Kind = backup.ErrNotFound
	}
	return e
}

// retryPending retries aborts that failed earlier (the endpoint was down).
func (s *Sink) retryPending(ctx context.Context) {
	s.mu.Lock()
	p := s.pending
	s.pending = nil
	s.mu.Unlock()
	var left []pendingAbort
	for _, a := range p {
		if err := s.abort(ctx, a.key, a.uploadID); err != nil {
			left = append(left, a)
		}
	}
	if len(left) > 0 {
		s.mu.Lock()
		s.pending = append(s.pending, left...)
		s.mu.Unlock()
	}
}

func (s *Sink) abort(ctx context.Context, key, uploadID string) error {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.abortTO)
	defer cancel()
	_, err := s.c.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{Bucket: &s.bucket, Key: &key, UploadId: &uploadID})
	var nu *types.NoSuchUpload
	if err != nil && !errors.As(err, &nu) {
		return err
	}
	s.log.InfoContext(ctx, "s3sink: multipart upload aborted", "key", key)
	return nil
}

// PendingAborts returns how many aborted uploads could not be aborted on
// the endpoint yet (it was unreachable); the next call retries them.
func (s *Sink) PendingAborts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pending)
}

// AbortIncomplete aborts the multipart uploads under the sink's prefix
// that started more than olderThan ago: those of a process that crashed
// mid-part. Uploads of backups still running elsewhere are younger than a
// sensible olderThan (a day). It returns how many it aborted.
func (s *Sink) AbortIncomplete(ctx context.Context, olderThan time.Duration) (int, error) {
	s.retryPending(ctx)
	n := 0
	in := &s3.ListMultipartUploadsInput{Bucket: &s.bucket, Prefix: aws.String(s.prefix)}
	for {
		out, err := s.c.ListMultipartUploads(ctx, in)
		if err != nil {
			return n, s3err(ctx, err, "abort incomplete", "")
		}
		for _, u := range out.Uploads {
			if u.Initiated != nil && time.Since(*u.Initiated) < olderThan {
				continue
			}
			if err := s.abort(ctx, aws.ToString(u.Key), aws.ToString(u.UploadId)); err != nil {
				return n, s3err(ctx, err, "abort incomplete", aws.ToString(u.Key))
			}
			n++
		}
		if !aws.ToBool(out.IsTruncated) {
			return n, nil
		}
		in.KeyMarker, in.UploadIdMarker = out.NextKeyMarker, out.NextUploadIdMarker
	}
}

// Create implements backup.Sink: the object streams through an io.Pipe
// into the transfer manager's UploadObject, which sends a single PutObject
// for less than PartSize and a multipart upload otherwise, both with
// If-None-Match: * so that an existing object is never replaced. The
// object exists only once Commit returned.
func (s *Sink) Create(ctx context.Context, name string) (backup.ObjectWriter, error) {
	key, err := s.key(name)
	if err != nil {
		return nil, err
	}
	s.retryPending(ctx)
	if _, err := s.c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: &key}); err == nil {
		return nil, &backup.Error{Op: "write", Kind: backup.ErrExists, Msg: "object " + name}
	} else if err := s3err(ctx, err, "write", name); !errors.Is(err, backup.ErrNotFound) {
		return nil, err
	}
	uctx, cancel := context.WithCancel(ctx)
	pr, pw := io.Pipe()
	w := &writer{s: s, ctx: ctx, cancel: cancel, pw: pw, name: name, key: key, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		out, err := s.tm.UploadObject(uctx, &tm.UploadObjectInput{Bucket: &s.bucket, Key: &key, Body: pr,
			IfNoneMatch: aws.String("*"), ContentType: aws.String("application/octet-stream")})
		if err == nil && out != nil && out.UploadID != nil {
			// A completion that failed was hidden from the transfer
			// manager (see tmClient): fail and abort here instead.
			if cerr := s.takeCompleteErr(*out.UploadID); cerr != nil {
				s.log.WarnContext(ctx, "s3sink: multipart upload not completed, aborting", "key", key, "err", cerr)
				if aerr := s.abort(ctx, key, *out.UploadID); aerr != nil {
					s.mu.Lock()
					s.pending = append(s.pending, pendingAbort{key: key, uploadID: *out.UploadID})
					s.mu.Unlock()
					s.log.WarnContext(ctx, "s3sink: multipart upload not aborted yet, will retry", "key", key, "err", aerr)
				}
				err = cerr
			}
		}
		if err != nil {
			var mu tm.MultipartUploadError
			if errors.As(err, &mu) {
				// The transfer manager tried to abort, but its error does
				// not say whether that worked: abort again (aborting an
				// aborted upload is harmless) and keep it for later if the
				// endpoint is unreachable.
				if aerr := s.abort(ctx, key, mu.UploadID()); aerr != nil {
					s.mu.Lock()
					s.pending = append(s.pending, pendingAbort{key: key, uploadID: mu.UploadID()})
					s.mu.Unlock()
					s.log.WarnContext(ctx, "s3sink: multipart upload not aborted yet, will retry", "key", key, "err", aerr)
				}
			}
		}
		w.err = err
		pr.CloseWithError(errUploadEnded(err))
	}()
	return w, nil
}

func errUploadEnded(err error) error {
	if err == nil {
		return io.ErrClosedPipe
	}
	return err
}

var errAborted = errors.New("s3sink: write aborted")

type writer struct {
	s      *Sink
	ctx    context.Context
	cancel context.CancelFunc
	pw     *io.PipeWriter
	name   string
	key    string
	done   chan struct{}
	err    error // UploadObject's, read after done
	ended  bool
}

func (w *writer) Write(p []byte) (int, error) {
	if w.ended {
		return 0, backup.ErrClosed
	}
	n, err := w.pw.Write(p)
	if err != nil {
		if w.ctx.Err() != nil {
			return n, w.ctx.Err()
		}
		return n, s3err(w.ctx, err, "write", w.name)
	}
	return n, nil
}

func (w *writer) Commit() error {
	if w.ended {
		return backup.ErrClosed
	}
	w.ended = true
	if err := w.ctx.Err(); err != nil {
		w.pw.CloseWithError(err)
		<-w.done
		w.cancel()
		return err
	}
	w.pw.Close()
	<-w.done
	w.cancel()
	return s3err(w.ctx, w.err, "write", w.name)
}

func (w *writer) Abort() error {
	if w.ended {
		return nil
	}
	w.ended = true
	// The upload sees its body fail and aborts its multipart upload
	// itself (FailTimeout gives it a context of its own).
	w.pw.CloseWithError(errAborted)
	<-w.done
	w.cancel()
	if w.err == nil {
		// Cannot happen (the body never reached EOF), but an object that
		// slipped through must not stay.
		return w.s.Delete(context.WithoutCancel(w.ctx), w.name)
	}
	return nil
}

// Open implements backup.Sink with one streaming GetObject.
func (s *Sink) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	key, err := s.key(name)
	if err != nil {
		return nil, err
	}
	out, err := s.c.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: &key})
	if err != nil {
		return nil, s3err(ctx, err, "open", name)
	}
	return out.Body, nil
}

// Size implements backup.Sink with HeadObject.
func (s *Sink) Size(ctx context.Context, name string) (int64, error) {
	key, err := s.key(name)
	if err != nil {
		return 0, err
	}
	out, err := s.c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: &key})
	if err != nil {
		return 0, s3err(ctx, err, "stat", name)
	}
	return aws.ToInt64(out.ContentLength), nil
}

// List implements backup.Sink with ListObjectsV2.
func (s *Sink) List(ctx context.Context, prefix string) ([]string, error) {
	s.retryPending(ctx)
	var out []string
	p := s3.NewListObjectsV2Paginator(s.c, &s3.ListObjectsV2Input{Bucket: &s.bucket, Prefix: aws.String(s.prefix + prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, s3err(ctx, err, "list", "")
		}
		for _, o := range page.Contents {
			out = append(out, strings.TrimPrefix(aws.ToString(o.Key), s.prefix))
		}
	}
	sort.Strings(out)
	return out, nil
}

// Delete implements backup.Sink.
func (s *Sink) Delete(ctx context.Context, name string) error {
	key, err := s.key(name)
	if err != nil {
		return err
	}
	s.retryPending(ctx)
	if _, err := s.c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: &key}); err != nil {
		if err := s3err(ctx, err, "delete", name); !errors.Is(err, backup.ErrNotFound) {
			return err
		}
	}
	return nil
}

// String describes the sink without credentials.
func (s *Sink) String() string { return fmt.Sprintf("s3://%s/%s", s.bucket, s.prefix) }
