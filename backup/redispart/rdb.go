package redispart

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"hash/crc64"
	"io"
	"strconv"
)

// RDB opcodes and value types, as rdb.h of Redis 7.x numbers them.
const (
	opFunction2    = 0xF5
	opFunctionPre  = 0xF6
	opModuleAux    = 0xF7
	opIdle         = 0xF8
	opFreq         = 0xF9
	opAux          = 0xFA
	opResizeDB     = 0xFB
	opExpireTimeMS = 0xFC
	opExpireTime   = 0xFD
	opSelectDB     = 0xFE
	opEOF          = 0xFF
	opSlotInfo     = 0xF4

	typeString          = 0
	typeList            = 1
	typeSet             = 2
	typeZset            = 3
	typeHash            = 4
	typeZset2           = 5
	typeModulePre       = 6
	typeModule2         = 7
	typeHashZipmap      = 9
	typeListZiplist     = 10
	typeSetIntset       = 11
	typeZsetZiplist     = 12
	typeHashZiplist     = 13
	typeListQuicklist   = 14
	typeStreamListpacks = 15
	typeHashListpack    = 16
	typeZsetListpack    = 17
	typeListQuicklist2  = 18
	typeStream2         = 19
	typeSetListpack     = 20
	typeStream3         = 21
)

// MaxRDBVersion is the highest RDB version this package reads (Redis 7.4
// writes 12; 7.2 writes 11; 7.0 writes 10). A file or DUMP payload of a
// higher version is refused with ErrUnsupported naming it.
const MaxRDBVersion = 12

// crcTable is CRC-64/Jones (reflected polynomial 0x95AC9329AC4BC9B5) as
// Redis computes it for RDB files and DUMP payloads: init 0, no final xor.
// hash/crc64 inverts before and after, so callers invert around it.
var crcTable = crc64.MakeTable(0x95AC9329AC4BC9B5)

// crcUpdate continues Redis's CRC-64 over p.
func crcUpdate(crc uint64, p []byte) uint64 { return ^crc64.Update(^crc, crcTable, p) }

// typeName names a value type for counts and errors.
func typeName(t byte) string {
	switch t {
	case typeString:
		return "string"
	case typeList, typeListZiplist, typeListQuicklist, typeListQuicklist2:
		return "list"
	case typeSet, typeSetIntset, typeSetListpack:
		return "set"
	case typeZset, typeZset2, typeZsetZiplist, typeZsetListpack:
		return "zset"
	case typeHash, typeHashZipmap, typeHashZiplist, typeHashListpack:
		return "hash"
	case typeStreamListpacks, typeStream2, typeStream3:
		return "stream"
	case typeModulePre, typeModule2:
		return "module"
	}
	return "type " + strconv.Itoa(int(t))
}

// formatError is a malformed or unsupported RDB; the caller wraps it with
// the sentinel (unsupported reports ErrUnsupported).
type formatError struct {
	off         int64
	msg         string
	unsupported bool
}

func (e *formatError) Error() string { return fmt.Sprintf("rdb at byte %d: %s", e.off, e.msg) }

// rdbReader reads an RDB stream, keeping its CRC-64 and, while rec is
// non-nil, a copy of the bytes read (a value's encoding, to re-create a
// DUMP payload without decoding it).
type rdbReader struct {
	r   *bufio.Reader
	crc uint64
	off int64
	rec []byte
	on  bool
	buf [16]byte
}

func newRDBReader(r io.Reader) *rdbReader { return &rdbReader{r: bufio.NewReaderSize(r, 64<<10)} }

func (d *rdbReader) errf(unsupported bool, format string, a ...any) error {
	return &formatError{off: d.off, msg: fmt.Sprintf(format, a...), unsupported: unsupported}
}

func (d *rdbReader) eof(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return d.errf(false, "truncated")
	}
	return err
}

func (d *rdbReader) took(p []byte) {
	d.crc = crcUpdate(d.crc, p)
	d.off += int64(len(p))
	if d.on {
		d.rec = append(d.rec, p...)
	}
}

func (d *rdbReader) byte() (byte, error) {
	b, err := d.r.ReadByte()
	if err != nil {
		return 0, d.eof(err)
	}
	d.buf[0] = b
	d.took(d.buf[:1])
	return b, nil
}

// fixed reads n ≤ 16 bytes.
func (d *rdbReader) fixed(n int) ([]byte, error) {
	p := d.buf[:n]
	if _, err := io.ReadFull(d.r, p); err != nil {
		return nil, d.eof(err)
	}
	d.took(p)
	return p, nil
}

// skip consumes n bytes, in chunks so a corrupt length allocates nothing.
func (d *rdbReader) skip(n uint64) error {
	for n > 0 {
		k := min(n, 32<<10)
		p, err := d.r.Peek(int(k))
		if len(p) == 0 {
			return d.eof(err)
		}
		d.took(p)
		_, _ = d.r.Discard(len(p))
		n -= uint64(len(p))
	}
	return nil
}

// bytes reads n bytes into a new slice, growing it as data arrives.
func (d *rdbReader) bytes(n uint64) ([]byte, error) {
	var out []byte
	for n > 0 {
		k := min(n, 32<<10)
		p, err := d.r.Peek(int(k))
		if len(p) == 0 {
			return nil, d.eof(err)
		}
		out = append(out, p...)
		d.took(p)
		_, _ = d.r.Discard(len(p))
		n -= uint64(len(p))
	}
	return out, nil
}

// length reads a length; enc reports the special string encodings
// (int8/16/32, LZF), whose kind is then returned as the length.
func (d *rdbReader) length() (n uint64, enc bool, err error) {
	b, err := d.byte()
	if err != nil {
		return 0, false, err
	}
	switch b >> 6 {
	case 0:
		return uint64(b & 0x3F), false, nil
	case 1:
		c, err := d.byte()
		if err != nil {
			return 0, false, err
		}
		return uint64(b&0x3F)<<8 | uint64(c), false, nil
	case 2:
		switch b {
		case 0x80:
			p, err := d.fixed(4)
			if err != nil {
				return 0, false, err
			}
			return uint64(binary.BigEndian.Uint32(p)), false, nil
		case 0x81:
			p, err := d.fixed(8)
			if err != nil {
				return 0, false, err
			}
			return binary.BigEndian.Uint64(p), false, nil
		}
		return 0, false, d.errf(false, "bad length byte 0x%02x", b)
	}
	return uint64(b & 0x3F), true, nil
}

func (d *rdbReader) plainLength() (uint64, error) {
	n, enc, err := d.length()
	if err == nil && enc {
		err = d.errf(false, "string encoding where a length belongs")
	}
	return n, err
}

// skipString consumes one RDB string whatever its encoding.
func (d *rdbReader) skipString() error {
	n, enc, err := d.length()
	if err != nil {
		return err
	}
	if !enc {
		return d.skip(n)
	}
	switch n {
	case 0:
		return d.skip(1)
	case 1:
		return d.skip(2)
	case 2:
		return d.skip(4)
	case 3:
		clen, err := d.plainLength()
		if err != nil {
			return err
		}
		if _, err := d.plainLength(); err != nil {
			return err
		}
		return d.skip(clen)
	}
	return d.errf(false, "unknown string encoding %d", n)
}

// maxKey bounds a decoded key (Redis's own limit is 512 MiB).
const maxKey = 512 << 20

// str reads one RDB string and decodes it (integers, LZF): keys.
func (d *rdbReader) str() ([]byte, error) {
	n, enc, err := d.length()
	if err != nil {
		return nil, err
	}
	if !enc {
		if n > maxKey {
			return nil, d.errf(false, "string of %d bytes", n)
		}
		return d.bytes(n)
	}
	switch n {
	case 0:
		b, err := d.fixed(1)
		if err != nil {
			return nil, err
		}
		return strconv.AppendInt(nil, int64(int8(b[0])), 10), nil
	case 1:
		b, err := d.fixed(2)
		if err != nil {
			return nil, err
		}
		return strconv.AppendInt(nil, int64(int16(binary.LittleEndian.Uint16(b))), 10), nil
	case 2:
		b, err := d.fixed(4)
		if err != nil {
			return nil, err
		}
		return strconv.AppendInt(nil, int64(int32(binary.LittleEndian.Uint32(b))), 10), nil
	case 3:
		clen, err := d.plainLength()
		if err != nil {
			return nil, err
		}
		ulen, err := d.plainLength()
		if err != nil {
			return nil, err
		}
		if clen > maxKey || ulen > maxKey {
			return nil, d.errf(false, "LZF string of %d/%d bytes", clen, ulen)
		}
		c, err := d.bytes(clen)
		if err != nil {
			return nil, err
		}
		out, ok := lzfDecompress(c, int(ulen))
		if !ok {
			return nil, d.errf(false, "bad LZF data")
		}
		return out, nil
	}
	return nil, d.errf(false, "unknown string encoding %d", n)
}

// lzfDecompress expands LZF data (liblzf's format, which Redis uses) into
// exactly ulen bytes.
func lzfDecompress(in []byte, ulen int) ([]byte, bool) {
	out := make([]byte, 0, min(ulen, 1<<20))
	for i := 0; i < len(in); {
		ctrl := int(in[i])
		i++
		if ctrl < 32 {
			n := ctrl + 1
			if i+n > len(in) || len(out)+n > ulen {
				return nil, false
			}
			out = append(out, in[i:i+n]...)
			i += n
			continue
		}
		n := ctrl >> 5
		if n == 7 {
			if i >= len(in) {
				return nil, false
			}
			n += int(in[i])
			i++
		}
		if i >= len(in) {
			return nil, false
		}
		ref := len(out) - (ctrl&0x1F)<<8 - int(in[i]) - 1
		i++
		n += 2
		if ref < 0 || len(out)+n > ulen {
			return nil, false
		}
		for k := 0; k < n; k++ {
			out = append(out, out[ref+k])
		}
	}
	if len(out) != ulen {
		return nil, false
	}
	return out, true
}

// skipValue consumes the encoding of a value of type t.
func (d *rdbReader) skipValue(t byte) error {
	switch t {
	case typeString, typeHashZipmap, typeListZiplist, typeSetIntset, typeZsetZiplist, typeHashZiplist,
		typeHashListpack, typeZsetListpack, typeSetListpack:
		return d.skipString()
	case typeList, typeSet, typeListQuicklist:
		return d.skipStrings(1)
	case typeHash:
		return d.skipStrings(2)
	case typeListQuicklist2:
		n, err := d.plainLength()
		if err != nil {
			return err
		}
		for ; n > 0; n-- {
			if _, err := d.plainLength(); err != nil { // container: plain or packed
				return err
			}
			if err := d.skipString(); err != nil {
				return err
			}
		}
		return nil
	case typeZset, typeZset2:
		n, err := d.plainLength()
		if err != nil {
			return err
		}
		for ; n > 0; n-- {
			if err := d.skipString(); err != nil {
				return err
			}
			if t == typeZset2 {
				if err := d.skip(8); err != nil {
					return err
				}
				continue
			}
			l, err := d.byte() // a double as text: length, or 253-255 for NaN/±inf
			if err != nil {
				return err
			}
			if l < 253 {
				if err := d.skip(uint64(l)); err != nil {
					return err
				}
			}
		}
		return nil
	case typeStreamListpacks, typeStream2, typeStream3:
		return d.skipStream(t)
	case typeModulePre, typeModule2:
		return d.errf(true, "module value (type %d): module types cannot be restored without the module", t)
	}
	return d.errf(true, "unknown value type %d", t)
}

// skipStrings consumes a length and that many groups of per strings.
func (d *rdbReader) skipStrings(per int) error {
	n, err := d.plainLength()
	if err != nil {
		return err
	}
	for ; n > 0; n-- {
		for k := 0; k < per; k++ {
			if err := d.skipString(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (d *rdbReader) skipLengths(n int) error {
	for ; n > 0; n-- {
		if _, err := d.plainLength(); err != nil {
			return err
		}
	}
	return nil
}

// skipStream consumes a stream: its listpacks, metadata and consumer
// groups with their pending entries and consumers (rdb.c's layout for
// types 15, 19 and 21).
func (d *rdbReader) skipStream(t byte) error {
	if err := d.skipStrings(2); err != nil { // listpacks: node key, listpack
		return err
	}
	if err := d.skipLengths(3); err != nil { // length, last id ms, seq
		return err
	}
	if t >= typeStream2 {
		if err := d.skipLengths(5); err != nil { // first id, max deleted id, entries added
			return err
		}
	}
	groups, err := d.plainLength()
	if err != nil {
		return err
	}
	for ; groups > 0; groups-- {
		if err := d.skipString(); err != nil { // name
			return err
		}
		if err := d.skipLengths(2); err != nil { // last id
			return err
		}
		if t >= typeStream2 {
			if err := d.skipLengths(1); err != nil { // entries read
				return err
			}
		}
		pel, err := d.plainLength()
		if err != nil {
			return err
		}
		for ; pel > 0; pel-- {
			if err := d.skip(16 + 8); err != nil { // raw id, delivery time
				return err
			}
			if err := d.skipLengths(1); err != nil { // delivery count
				return err
			}
		}
		consumers, err := d.plainLength()
		if err != nil {
			return err
		}
		for ; consumers > 0; consumers-- {
			if err := d.skipString(); err != nil { // name
				return err
			}
			times := uint64(8) // seen time
			if t >= typeStream3 {
				times = 16 // and active time
			}
			if err := d.skip(times); err != nil {
				return err
			}
			n, err := d.plainLength()
			if err != nil {
				return err
			}
			if err := d.skip(16 * n); err != nil {
				return err
			}
		}
	}
	return nil
}

// rdbKey is one key read from an RDB: its name, type, expiry (Unix ms, 0
// for none) and its value's encoding.
type rdbKey struct {
	DB       uint64
	Key      []byte
	Type     byte
	ExpireMS int64
	Value    []byte
}

// rdbFile walks an RDB stream key by key.
type rdbFile struct {
	d       *rdbReader
	Version int
	db      uint64
	done    bool
	capture bool // keep values (restore) or only skip them (check)
}

// openRDB reads and checks the header.
func openRDB(r io.Reader, capture bool) (*rdbFile, error) {
	d := newRDBReader(r)
	p, err := d.bytes(9)
	if err != nil {
		return nil, err
	}
	if string(p[:5]) != "REDIS" {
		return nil, d.errf(false, "not an RDB file (no REDIS magic)")
	}
	v, err := strconv.Atoi(string(p[5:]))
	if err != nil || v < 1 {
		return nil, d.errf(false, "bad RDB version %q", p[5:])
	}
	if v > MaxRDBVersion {
		return nil, d.errf(true, "RDB version %d (this package reads up to %d)", v, MaxRDBVersion)
	}
	return &rdbFile{d: d, Version: v, capture: capture}, nil
}

// next returns the next key, or io.EOF after the EOF opcode and a good
// checksum.
func (f *rdbFile) next() (*rdbKey, error) {
	if f.done {
		return nil, io.EOF
	}
	d := f.d
	var expire int64
	for {
		op, err := d.byte()
		if err != nil {
			return nil, err
		}
		switch op {
		case opEOF:
			f.done = true
			if f.Version < 5 {
				return nil, io.EOF
			}
			want := d.crc
			p, err := d.fixed(8)
			if err != nil {
				return nil, err
			}
			if got := binary.LittleEndian.Uint64(p); got != 0 && got != want {
				return nil, d.errf(false, "checksum %016x, the data's is %016x", got, want)
			}
			return nil, io.EOF
		case opSelectDB:
			if f.db, err = d.plainLength(); err != nil {
				return nil, err
			}
		case opResizeDB:
			if err := d.skipLengths(2); err != nil {
				return nil, err
			}
		case opSlotInfo:
			if err := d.skipLengths(3); err != nil {
				return nil, err
			}
		case opAux:
			if err := d.skipString(); err != nil {
				return nil, err
			}
			if err := d.skipString(); err != nil {
				return nil, err
			}
		case opFunction2:
			if err := d.skipString(); err != nil {
				return nil, err
			}
		case opExpireTimeMS:
			p, err := d.fixed(8)
			if err != nil {
				return nil, err
			}
			expire = int64(binary.LittleEndian.Uint64(p))
		case opExpireTime:
			p, err := d.fixed(4)
			if err != nil {
				return nil, err
			}
			expire = int64(int32(binary.LittleEndian.Uint32(p))) * 1000
		case opIdle:
			if _, err := d.plainLength(); err != nil {
				return nil, err
			}
		case opFreq:
			if _, err := d.byte(); err != nil {
				return nil, err
			}
		case opModuleAux, opFunctionPre:
			return nil, d.errf(true, "opcode 0x%02x (module data or pre-release functions)", op)
		default:
			key, err := d.str()
			if err != nil {
				return nil, err
			}
			d.rec, d.on = d.rec[:0], f.capture
			err = d.skipValue(op)
			d.on = false
			if err != nil {
				return nil, err
			}
			k := &rdbKey{DB: f.db, Key: key, Type: op, ExpireMS: expire}
			if f.capture {
				k.Value = append([]byte(nil), d.rec...)
			}
			return k, nil
		}
	}
}

// dumpPayload builds a DUMP payload: type, value, RDB version, CRC-64.
func dumpPayload(t byte, value []byte, version int) []byte {
	p := make([]byte, 0, 1+len(value)+10)
	p = append(p, t)
	p = append(p, value...)
	p = binary.LittleEndian.AppendUint16(p, uint16(version))
	return binary.LittleEndian.AppendUint64(p, crcUpdate(0, p))
}

// splitDump checks a DUMP payload's trailer and returns its type, value
// and RDB version.
func splitDump(p []byte) (t byte, value []byte, version int, err error) {
	if len(p) < 11 {
		return 0, nil, 0, fmt.Errorf("DUMP payload of %d bytes", len(p))
	}
	body := p[:len(p)-8]
	if got, want := binary.LittleEndian.Uint64(p[len(p)-8:]), crcUpdate(0, body); got != want {
		return 0, nil, 0, fmt.Errorf("DUMP payload checksum %016x, the data's is %016x", got, want)
	}
	version = int(binary.LittleEndian.Uint16(body[len(body)-2:]))
	return p[0], body[1 : len(body)-2], version, nil
}

// rdbWriter writes an RDB file and its CRC-64.
type rdbWriter struct {
	w   *bufio.Writer
	crc uint64
	err error
	tmp []byte
}

func newRDBWriter(w io.Writer) *rdbWriter { return &rdbWriter{w: bufio.NewWriterSize(w, 256<<10)} }

func (w *rdbWriter) write(p []byte) {
	if w.err != nil {
		return
	}
	w.crc = crcUpdate(w.crc, p)
	_, w.err = w.w.Write(p)
}

func appendLength(b []byte, n uint64) []byte {
	switch {
	case n < 1<<6:
		return append(b, byte(n))
	case n < 1<<14:
		return append(b, byte(n>>8)|0x40, byte(n))
	case n <= 0xFFFFFFFF:
		return binary.BigEndian.AppendUint32(append(b, 0x80), uint32(n))
	}
	return binary.BigEndian.AppendUint64(append(b, 0x81), n)
}

func appendString(b, s []byte) []byte { return append(appendLength(b, uint64(len(s))), s...) }

func (w *rdbWriter) header(version int, aux map[string]string) {
	w.write(fmt.Appendf(nil, "REDIS%04d", version))
	for _, k := range []string{"redis-ver", "lucid-data"} {
		if v, ok := aux[k]; ok {
			w.write(appendString(appendString([]byte{opAux}, []byte(k)), []byte(v)))
		}
	}
	w.write([]byte{opSelectDB, 0})
}

// key writes one key: expiry (Unix ms, 0 for none), type, name, value.
func (w *rdbWriter) key(key []byte, t byte, value []byte, expireMS int64) {
	b := w.tmp[:0]
	if expireMS > 0 {
		b = binary.LittleEndian.AppendUint64(append(b, opExpireTimeMS), uint64(expireMS))
	}
	b = appendString(append(b, t), key)
	w.write(b)
	w.write(value)
	w.tmp = b[:0]
}

func (w *rdbWriter) finish() error {
	w.write([]byte{opEOF})
	crc := w.crc
	w.write(binary.LittleEndian.AppendUint64(nil, crc))
	if w.err != nil {
		return w.err
	}
	return w.w.Flush()
}
