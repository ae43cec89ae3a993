package volume

import (
	"archive/tar"
	"bufio"
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
	"time"
)

// fuzzBytes hands out the fuzzer's input a piece at a time, zeros once it
// runs out.
type fuzzBytes []byte

func (f *fuzzBytes) byte() byte {
	if len(*f) == 0 {
		return 0
	}
	b := (*f)[0]
	*f = (*f)[1:]
	return b
}

func (f *fuzzBytes) uint64() uint64 {
	var b [8]byte
	for i := range b {
		b[i] = f.byte()
	}
	return binary.LittleEndian.Uint64(b[:])
}

// name is a path of n bytes (n near the 100-byte header field limit half of
// the time) from a small alphabet with slashes, sometimes not ASCII.
func (f *fuzzBytes) name() string {
	sel := f.byte()
	var n int
	if sel&1 == 0 {
		n = 95 + int(sel>>1)%12 // 95..106: around ustar's 100-byte name field
	} else {
		n = 1 + int(sel>>1)%110
	}
	const chars = "abc/xyz0129-_. =+"
	var b strings.Builder
	switch f.byte() % 16 {
	case 0:
		b.WriteString("ü/") // not ASCII: tar.Writer's
	case 1:
		b.WriteByte(0x80) // not UTF-8 either
	}
	for b.Len() < n {
		b.WriteByte(chars[int(f.byte())%len(chars)])
	}
	return b.String()
}

// header builds one PAX header from the input: every type tarOut writes,
// ids, sizes and times just below and at the octal limits of the ustar
// fields, names and link targets around 100 bytes.
func (f *fuzzBytes) header() *tar.Header {
	h := &tar.Header{Format: tar.FormatPAX}
	sel := f.byte()
	switch sel % 4 {
	case 0:
		h.Typeflag = tar.TypeDir
		h.Name = strings.TrimRight(f.name(), "/") + "/"
	case 1:
		h.Typeflag, h.Name, h.Linkname = tar.TypeSymlink, f.name(), f.name()
	case 2:
		h.Typeflag, h.Name, h.Linkname = tar.TypeLink, f.name(), f.name()
	default:
		h.Typeflag, h.Name = tar.TypeReg, f.name()
		h.Size = int64(f.byte()) * int64(f.byte()%8) // up to ~1.8 KiB
	}
	near := func(limit int64) int64 { return limit - 2 + int64(f.byte()%4) }
	h.Mode = int64(f.uint64() % 0o10000)
	h.Uid, h.Gid = int(f.uint64()%70000), int(f.uint64()%70000)
	switch sel & 0x30 {
	case 0x10:
		h.Uid = int(near(1<<21 - 1)) // 7 octal digits
	case 0x20:
		h.Gid = int(near(1<<21 - 1))
	}
	var sec int64
	switch (sel >> 6) & 3 {
	case 0, 1:
		sec = int64(f.uint64() % (1 << 33)) // fits the 11-digit field
	case 2:
		sec = near(1<<33 - 1)
	default:
		sec = int64(f.uint64()%(1<<36)) - 1<<35 // negative or too big: tar.Writer's
	}
	nsec := int64(f.uint64() % 1e9)
	if f.byte()&1 == 0 {
		nsec = nsec / 1e6 * 1e6 // trailing zeros
	}
	if f.byte()%16 == 0 {
		h.ModTime = time.Time{} // the zero time
	} else {
		h.ModTime = time.Unix(sec, nsec)
	}
	if f.byte()%16 == 0 {
		h.Uname = "root"
	}
	return h
}

// FuzzTarOut writes the same headers and contents through tarOut and
// through archive/tar's Writer and wants the same bytes and the same
// failures: tarOut's fast path encodes the common header itself and must
// stay byte for byte what the standard library writes.
func FuzzTarOut(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("\x03\x00\x10\x20abc/def\x01\x02\x03\x04"))
	f.Add(bytes.Repeat([]byte{0x00, 0x62, 0x03, 0xff, 0xfe}, 60))
	f.Add(bytes.Repeat([]byte{0x51, 0x11, 0x7f, 0x40, 0x01}, 80))
	f.Add(bytes.Repeat([]byte{0xd3, 0x64, 0x10, 0x08}, 120))
	f.Fuzz(func(t *testing.T, data []byte) {
		in := fuzzBytes(data)
		n := 1 + int(in.byte()%8)
		hdrs := make([]*tar.Header, n)
		for i := range hdrs {
			hdrs[i] = in.header()
		}
		type writer interface {
			WriteHeader(*tar.Header) error
			Write([]byte) (int, error)
			Close() error
		}
		// run writes every entry and closes; it returns the index and
		// error of the first failure (-1 when there is none).
		run := func(w writer) (int, error) {
			for i, h := range hdrs {
				hc := *h // tar.Writer may rewrite fields
				if err := w.WriteHeader(&hc); err != nil {
					return i, err
				}
				if h.Typeflag == tar.TypeReg {
					if _, err := w.Write(bytes.Repeat([]byte{byte(i + 1)}, int(h.Size))); err != nil {
						return i, err
					}
				}
			}
			return -1, w.Close()
		}
		var fast, ref bytes.Buffer
		bw := bufio.NewWriter(&fast)
		fi, ferr := run(newTarOut(bw))
		_ = bw.Flush()
		ri, rerr := run(tar.NewWriter(&ref))
		if fi != ri || (ferr == nil) != (rerr == nil) {
			t.Fatalf("tarOut failed at %d with %v, tar.Writer at %d with %v; headers %+v", fi, ferr, ri, rerr, hdrs)
		}
		if ferr != nil {
			return // what was written before a failure is not compared
		}
		if a, b := fast.Bytes(), ref.Bytes(); !bytes.Equal(a, b) {
			i := 0
			for i < len(a) && i < len(b) && a[i] == b[i] {
				i++
			}
			blk := i / 512 * 512
			t.Fatalf("streams differ at byte %d (block %d), %d vs %d bytes\nfast %q\ntar  %q\nheaders %+v",
				i, i/512, len(a), len(b), a[blk:min(len(a), blk+512)], b[blk:min(len(b), blk+512)], hdrs)
		}
	})
}
