package volume

import (
	"archive/tar"
	"bufio"
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// TestTarOutMatchesArchiveTar writes the same entries through tarOut and
// through tar.Writer and wants the same bytes: fast-path headers at their
// limits (names of 100 bytes, PaxHeaders names cut at 100, ids and sizes
// just below and at the octal limits, times with and without nanoseconds)
// and headers tarOut hands to tar.Writer, mixed in one stream.
func TestTarOutMatchesArchiveTar(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	name := func(n int) string {
		const chars = "abcdefghijklmnopqrstuvwxyz0123456789-_.+ ="
		b := make([]byte, n)
		for i := range b {
			b[i] = chars[rng.IntN(len(chars))]
			if i > 0 && i < n-1 && rng.IntN(8) == 0 && b[i-1] != '/' {
				b[i] = '/'
			}
		}
		return string(b)
	}
	base := time.Unix(1_700_000_000, 0)
	var hdrs []*tar.Header
	for i := 0; i < 3000; i++ {
		h := &tar.Header{Format: tar.FormatPAX, Mode: int64(rng.IntN(0o10000)), Uid: rng.IntN(70000), Gid: rng.IntN(70000)}
		n := 1 + rng.IntN(100)
		if rng.IntN(10) == 0 {
			n = 80 + rng.IntN(30) // around the 100-byte limits
		}
		h.Name = name(n)
		switch rng.IntN(4) {
		case 0:
			h.Typeflag = tar.TypeDir
			h.Name = strings.TrimRight(h.Name, "/") + "/"
		case 1:
			h.Typeflag, h.Linkname = tar.TypeSymlink, name(1+rng.IntN(105))
		case 2:
			h.Typeflag, h.Linkname = tar.TypeLink, name(1+rng.IntN(105))
		default:
			h.Typeflag, h.Size = tar.TypeReg, int64(rng.IntN(1500))
			h.Name = strings.TrimRight(h.Name, "/") + "f"
		}
		switch rng.IntN(6) {
		case 0:
			h.ModTime = base.Add(time.Duration(rng.Int64N(1e9)) * time.Second)
		case 1:
			h.ModTime = base.Add(time.Duration(rng.IntN(10)) * 100 * time.Millisecond) // trailing zeros
		case 2:
			h.ModTime = time.Unix(rng.Int64N(1<<34)-1<<32, int64(rng.IntN(1e9))) // also negative and >= 8^11
		default:
			h.ModTime = base.Add(time.Duration(rng.Int64N(1 << 50)))
		}
		if rng.IntN(50) == 0 {
			h.Uid = 1<<21 - 1 + rng.IntN(2)
		}
		if rng.IntN(50) == 0 {
			h.Name = "ü/" + h.Name // not ASCII: tar.Writer's
		}
		hdrs = append(hdrs, h)
	}
	hdrs = append(hdrs,
		&tar.Header{Format: tar.FormatPAX, Typeflag: tar.TypeReg, Name: strings.Repeat("x", 100), ModTime: time.Unix(0, 1)},
		&tar.Header{Format: tar.FormatPAX, Typeflag: tar.TypeReg, Name: "big", Size: 1<<33 - 1, ModTime: time.Unix(1<<33-1, 999999999)},
		&tar.Header{Format: tar.FormatPAX, Typeflag: tar.TypeDir, Name: strings.Repeat("d", 99) + "/", ModTime: time.Unix(5, 0)},
		&tar.Header{Format: tar.FormatPAX, Typeflag: tar.TypeReg, Name: "zero-time"},
		&tar.Header{Format: tar.FormatPAX, Typeflag: tar.TypeReg, Name: "owned", Uname: "root", ModTime: base},
	)
	nfast := 0
	for _, h := range hdrs {
		if fastHeader(h) {
			nfast++
		}
	}
	if nfast < len(hdrs)/2 || len(hdrs)-nfast < 100 {
		t.Fatalf("%d of %d headers on the fast path: the test covers too little of one side", nfast, len(hdrs))
	}
	write := func(w interface {
		WriteHeader(*tar.Header) error
		Write([]byte) (int, error)
		Close() error
	}) {
		t.Helper()
		for i, h := range hdrs {
			if err := w.WriteHeader(h); err != nil {
				t.Fatalf("header %d %+v: %v", i, h, err)
			}
			if h.Typeflag == tar.TypeReg && h.Size < 1<<20 {
				if _, err := w.Write(bytes.Repeat([]byte{byte(i)}, int(h.Size))); err != nil {
					t.Fatal(err)
				}
			}
			if h.Size >= 1<<20 {
				break // the big one ends the stream unfinished: compare headers only
			}
		}
	}
	var fast, ref bytes.Buffer
	bw := bufio.NewWriter(&fast)
	write(newTarOut(bw))
	bw.Flush()
	write(tar.NewWriter(&ref))
	if !bytes.Equal(fast.Bytes(), ref.Bytes()) {
		a, b := fast.Bytes(), ref.Bytes()
		i := 0
		for i < len(a) && i < len(b) && a[i] == b[i] {
			i++
		}
		t.Fatalf("streams differ at byte %d (block %d): %d vs %d bytes\nfast %q\ntar  %q", i, i/512, len(a), len(b), a[i/512*512:min(len(a), i/512*512+512)], b[i/512*512:min(len(b), i/512*512+512)])
	}
	// The whole stream, trailer included, for the headers before the big file.
	hdrs = hdrs[:len(hdrs)-4]
	fast.Reset()
	ref.Reset()
	bw.Reset(&fast)
	o := newTarOut(bw)
	write(o)
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	bw.Flush()
	tw := tar.NewWriter(&ref)
	write(tw)
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fast.Bytes(), ref.Bytes()) {
		t.Fatalf("closed streams differ: %d vs %d bytes", fast.Len(), ref.Len())
	}
	// Writing too much or too little fails as with tar.Writer.
	bw.Reset(&fast)
	o = newTarOut(bw)
	if err := o.WriteHeader(&tar.Header{Format: tar.FormatPAX, Typeflag: tar.TypeReg, Name: "f", Size: 2, ModTime: base}); err != nil {
		t.Fatal(err)
	}
	if n, err := o.Write([]byte("abc")); n != 2 || err == nil {
		t.Fatalf("write past size: %d %v", n, err)
	}
	o = newTarOut(bw)
	_ = o.WriteHeader(&tar.Header{Format: tar.FormatPAX, Typeflag: tar.TypeReg, Name: "f", Size: 2, ModTime: base})
	if err := o.Close(); err == nil {
		t.Fatal("close with content missing: no error")
	}
}
