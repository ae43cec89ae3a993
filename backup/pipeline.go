package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"filippo.io/age"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Compression is a part's compression.
type Compression string

// The compressions. Zstd is the default.
const (
	Zstd Compression = "zstd" // Zstandard (github.com/klauspost/compress/zstd), one frame, every core
	Gzip Compression = "gzip" // gzip (github.com/klauspost/compress/gzip), one core
	None Compression = "none" // stored as the source wrote it
)

func parseCompression(s string) (Compression, error) {
	switch Compression(s) {
	case "", Zstd:
		return Zstd, nil
	case Gzip, None:
		return Compression(s), nil
	}
	return "", newErr(ErrInvalid, "config", "", "", "unknown compression %.20q (zstd, gzip, none)", s)
}

func (c Compression) ext() string {
	switch c {
	case Zstd:
		return ".zst"
	case Gzip:
		return ".gz"
	}
	return ""
}

// Memory bound of the pipeline, per part being written, whatever its
// size: the zstd encoder keeps Concurrency jobs of 4 × zstdWindow in
// flight with their output (concurrent blocks; Concurrency 1 streams one
// block at a time), the async stage (gzip, and zstd on one core)
// asyncBuffers × asyncBufSize, age one 64 KiB chunk; the sink's own buffer comes on top (local: none; S3:
// PartSize × (Concurrency+1)). Measured on a 2 GiB part to a local
// directory (TestPeakRSS): peak RSS 123 MiB with Concurrency 2, 34 MiB with
// Concurrency 1 in an earlier run (Go heap in use 54 and 12 MiB; the rest is
// the collector's headroom). An idle Manager may hold encoders in its pool
// until the collector drops them. Reading holds the decoder's window, capped
// at zstdMaxWindow whatever a corrupt or hostile stream asks for, and
// zstdDecoders blocks: 39 MiB peak RSS verifying the same part.
const (
	zstdWindow    = 1 << 20
	zstdMaxWindow = 64 << 20
	zstdDecoders  = 2
)

// defaultLevel returns the level used when Config.Level is 0.
func defaultLevel(c Compression) int {
	switch c {
	case Zstd:
		return 3
	case Gzip:
		return 6
	}
	return 0
}

func checkLevel(c Compression, level int) error {
	switch c {
	case Zstd:
		if level < 1 || level > 22 {
			return newErr(ErrInvalid, "config", "", "", "zstd level %d (1..22)", level)
		}
	case Gzip:
		if level < 1 || level > 9 {
			return newErr(ErrInvalid, "config", "", "", "gzip level %d (1..9)", level)
		}
	case None:
		if level != 0 {
			return newErr(ErrInvalid, "config", "", "", "a level without compression")
		}
	}
	return nil
}

// digester counts and hashes what passes through it.
type digester struct {
	h hash.Hash    // nil: count only
	n atomic.Int64 // read by progress reports from another goroutine
}

func newDigester() *digester { return &digester{h: sha256.New()} }

// newCounter counts without hashing: its digest has no SHA-256.
func newCounter() *digester { return &digester{} }

func (d *digester) Write(p []byte) (int, error) {
	if d.h != nil {
		d.h.Write(p)
	}
	d.n.Add(int64(len(p)))
	return len(p), nil
}

func (d *digester) digest() Digest {
	if d.h == nil {
		return Digest{Size: d.n.Load()}
	}
	return Digest{Size: d.n.Load(), SHA256: hex.EncodeToString(d.h.Sum(nil))}
}

// teeWriter writes to w and then hashes what w accepted.
type teeWriter struct {
	w io.Writer
	d *digester
}

func (t teeWriter) Write(p []byte) (int, error) {
	n, err := t.w.Write(p)
	t.d.Write(p[:n])
	return n, err
}

// ctxWriter fails writes once ctx is done, so a source that does not watch
// ctx itself still stops at its next write.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}

// ctxReader fails reads once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// encoder is the write side of one part: source → plain digest →
// compression → age → stored digest → sink.
type encoder struct {
	in     io.Writer // what the source writes to
	plain  *digester
	stored *digester
	comp   io.WriteCloser // nil for None
	async  *asyncWriter   // between compression and encryption
	enc    io.WriteCloser // nil without encryption
	zpool  *sync.Pool     // where a zstd encoder goes back after a clean close
}

// newEncoder builds the write side of a part. zpool holds the Manager's
// idle zstd encoders (all of its level and concurrency): reusing one saves
// allocating and clearing its ~30 MiB of job buffers for every part, 2-3 %
// of the CPU time of a 128 MiB part measured here. A closed encoder holds
// no goroutine, and the pool lets the collector drop idle ones.
func newEncoder(ctx context.Context, dst io.Writer, c Compression, level, concurrency int, recipients []age.Recipient, plainSHA bool, zpool *sync.Pool) (*encoder, error) {
	e := &encoder{plain: newCounter(), stored: newDigester(), zpool: zpool}
	if plainSHA {
		e.plain = newDigester()
	}
	var w io.Writer = teeWriter{w: dst, d: e.stored}
	if len(recipients) > 0 {
		aw, err := age.Encrypt(w, recipients...)
		if err != nil {
			return nil, newErr(ErrInvalid, "encrypt", "", "", "%v", err)
		}
		e.enc, w = aw, aw
	}
	// With concurrent blocks the zstd encoder compresses in its workers and
	// writes in a flusher goroutine of its own, so age, the stored digest
	// and the sink already run beside compression: a stage of ours would
	// only copy every byte once more. Gzip and zstd on one core write from
	// the caller's goroutine, and get the stage.
	if c == Gzip || (c == Zstd && concurrency <= 1) {
		e.async = newAsyncWriter(w)
		w = e.async
	}
	switch c {
	case Zstd:
		zw, _ := zpool.Get().(*zstd.Encoder)
		if zw != nil {
			zw.Reset(w)
		} else {
			var err error
			zw, err = zstd.NewWriter(w,
				zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(level)),
				zstd.WithEncoderConcurrency(concurrency),
				zstd.WithWindowSize(zstdWindow),
				zstd.WithConcurrentBlocks(concurrency > 1),
			)
			if err != nil {
				e.abandon()
				return nil, newErr(ErrInvalid, "compress", "", "", "%v", err)
			}
		}
		e.comp, w = zw, zw
	case Gzip:
		gw, err := gzip.NewWriterLevel(w, level)
		if err != nil {
			e.abandon()
			return nil, newErr(ErrInvalid, "compress", "", "", "%v", err)
		}
		e.comp, w = gw, gw
	}
	e.in = ctxWriter{ctx: ctx, w: teeWriter{w: w, d: e.plain}}
	return e, nil
}

// close flushes compression and encryption; the sink's object is not
// committed here.
func (e *encoder) close() error {
	var err error
	if e.comp != nil {
		err = e.comp.Close()
		if zw, ok := e.comp.(*zstd.Encoder); ok && err == nil {
			// Reset to a discarding writer so the pool does not keep the
			// sink's writer reachable.
			zw.Reset(io.Discard)
			e.zpool.Put(zw)
		}
		e.comp = nil
	}
	if e.async != nil {
		if cerr := e.async.Close(); err == nil {
			err = cerr
		}
		e.async = nil
	}
	if e.enc != nil {
		if cerr := e.enc.Close(); err == nil {
			err = cerr
		}
		e.enc = nil
	}
	return err
}

// abandon releases the encoder's goroutines after a failure.
func (e *encoder) abandon() {
	if zw, ok := e.comp.(*zstd.Encoder); ok {
		// Reset to a discarding writer, then Close, stops the workers
		// without writing to the broken sink.
		zw.Reset(io.Discard)
		_ = zw.Close()
	}
	if e.async != nil {
		e.async.setErr(errAbandoned)
		_ = e.async.Close()
	}
	e.comp, e.async, e.enc = nil, nil, nil
}

var errAbandoned = errors.New("backup: part abandoned")

// decoder is the read side of one part: sink → stored digest → age →
// decompression → plain digest → consumer.
type decoder struct {
	out    io.Reader
	stored *digester
	plain  *digester
	zr     *zstd.Decoder
	src    io.Reader
}

// errKeyMismatch marks an age header no identity opens.
var errKeyMismatch = errors.New("no identity matches the part's recipients")

func newDecoder(ctx context.Context, src io.Reader, p PartManifest, identities []age.Identity) (*decoder, error) {
	d := &decoder{stored: newDigester(), plain: newDigester()}
	if p.Plain.SHA256 == "" {
		d.plain = newCounter() // not recorded, so not checked: see Config.PlainSHA256
	}
	d.src = io.TeeReader(ctxReader{ctx: ctx, r: src}, d.stored)
	r := d.src
	switch p.Encryption {
	case "age":
		if len(identities) == 0 {
			return d, newErr(ErrKey, "decrypt", "", p.Name, "the part is encrypted (%s) and no identity or passphrase is configured", p.Recipients)
		}
		ar, err := age.Decrypt(r, identities...)
		if err != nil {
			var nm *age.NoIdentityMatchError
			if errors.As(err, &nm) {
				return d, &Error{Op: "decrypt", Part: p.Name, Kind: ErrKey, Err: errKeyMismatch}
			}
			return d, &Error{Op: "decrypt", Part: p.Name, Kind: ErrCorrupt, Msg: "age header", Err: err}
		}
		r = ar
	case "none":
	default:
		return d, newErr(ErrUnsupported, "decrypt", "", p.Name, "encryption %.20q", p.Encryption)
	}
	switch Compression(p.Compression) {
	case Zstd:
		zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(zstdDecoders), zstd.WithDecoderMaxWindow(zstdMaxWindow))
		if err != nil {
			return d, &Error{Op: "decompress", Part: p.Name, Kind: ErrCorrupt, Err: err}
		}
		d.zr, r = zr, zr
	case Gzip:
		gr, err := gzip.NewReader(r)
		if err != nil {
			return d, &Error{Op: "decompress", Part: p.Name, Kind: ErrCorrupt, Err: err}
		}
		gr.Multistream(false)
		r = gr
	case None:
	default:
		return d, newErr(ErrUnsupported, "decompress", "", p.Name, "compression %.20q", p.Compression)
	}
	d.out = io.TeeReader(r, d.plain)
	return d, nil
}

// finish reads what the consumer left (a tar reader stops before the
// archive's zero padding) so both digests cover the whole part, and checks
// the stored stream ended where the compressed one did.
func (d *decoder) finish() error {
	if d.out != nil {
		if _, err := io.Copy(io.Discard, d.out); err != nil {
			return err
		}
	}
	return d.drainStored()
}

// drainStored reads the stored stream to its end, so its digest covers all
// of it whatever failed above it.
func (d *decoder) drainStored() error {
	_, err := io.Copy(io.Discard, d.src)
	return err
}

func (d *decoder) close() {
	if d.zr != nil {
		d.zr.Close()
		d.zr = nil
	}
}

func defaultConcurrency(n int) int {
	if n <= 0 {
		return runtime.GOMAXPROCS(0)
	}
	return n
}

// objectName returns the object a part is stored as: its name, the
// source's format and the extensions of the tools that read it back
// (volume.tar.zst.age).
func objectName(part, format string, c Compression, encrypted bool) string {
	s := part
	if format != "" {
		s += "." + format
	}
	s += c.ext()
	if encrypted {
		s += ".age"
	}
	return s
}

func describeRecipients(rs []age.Recipient) string {
	if len(rs) == 0 {
		return ""
	}
	if _, ok := rs[0].(*age.ScryptRecipient); ok {
		return "scrypt"
	}
	kinds := ""
	for _, r := range rs {
		k := fmt.Sprintf("%T", r)
		switch r.(type) {
		case *age.X25519Recipient:
			k = "x25519"
		}
		if kinds == "" {
			kinds = k
		} else if kinds != k {
			kinds = "mixed"
		}
	}
	return kinds
}

// progressWriter reports a part's progress at most every interval while
// its source writes; the final report comes from writePart once the
// object is committed.
type progressWriter struct {
	w      io.Writer
	every  time.Duration
	last   time.Time
	report func()
	now    func() time.Time
}

func (p *progressWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	if t := p.now(); t.Sub(p.last) >= p.every {
		p.last = t
		p.report()
	}
	return n, err
}
