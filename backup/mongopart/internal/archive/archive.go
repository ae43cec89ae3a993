// Package archive reads the framing of the mongodump archive format —
// magic number, prelude, namespace segments, terminators, CRC-64/ECMA
// checks — for package mongopart, which documents the format and exports
// it (mongopart.ReadArchive). It is a package of its own so that its fuzz
// target links nothing but the bson package: the fuzzer snapshots the
// coverage counters of the whole test binary on every execution, and with
// the MongoDB driver linked that snapshot was nearly all of the time.
package archive

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc64"
	"io"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Format constants; mongopart documents them.
const (
	Magic          uint32 = 0x8199e26d
	ArchiveVersion        = "0.1"
	MaxDocSize            = 16<<20 + 16<<10
	Terminator            = 0xFFFFFFFF
)

// CRCTable is the table of the namespace checksums (CRC-64/ECMA).
var CRCTable = crc64.MakeTable(crc64.ECMA)

// ErrFormat marks an archive that does not parse.
var ErrFormat = errors.New("mongopart: not a valid mongodump archive")

// FormatErr returns an error wrapping ErrFormat.
func FormatErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrFormat}, args...)...)
}

// Header is the prelude's first document (mongopart.Header).
type Header struct {
	ConcurrentCollections int32
	Version               string
	ServerVersion         string
	ToolVersion           string
}

// CollectionMetadata is one collection's entry of the prelude
// (mongopart.CollectionMetadata).
type CollectionMetadata struct {
	DB         string
	Collection string
	Metadata   string
	Size       int32
	Type       string
}

// Handler receives an archive's contents (mongopart.ArchiveHandler).
type Handler struct {
	Prelude func(h Header, colls []CollectionMetadata) error
	Segment func(db, coll string) error
	Doc     func(db, coll string, doc bson.Raw) error
	End     func(db, coll string, docs int64) error
}

// DocReader reads length-prefixed BSON documents and terminators.
type DocReader struct {
	r   *bufio.Reader
	buf []byte
}

// NewDocReader reads from r.
func NewDocReader(r *bufio.Reader) *DocReader { return &DocReader{r: r} }

// Next reads one document, valid until the next call; nil, nil at a
// terminator. eofOK allows a clean end of input before the document,
// reported as io.EOF.
func (ar *DocReader) Next(eofOK bool) (bson.Raw, error) {
	var lb [4]byte
	n, err := io.ReadFull(ar.r, lb[:])
	if err == io.EOF && eofOK {
		return nil, io.EOF
	}
	if err != nil {
		if n > 0 || err == io.EOF {
			return nil, FormatErr("truncated")
		}
		return nil, err
	}
	l := binary.LittleEndian.Uint32(lb[:])
	if l == Terminator {
		return nil, nil
	}
	if l < 5 || l > MaxDocSize {
		return nil, FormatErr("document length %d", l)
	}
	// The buffer grows with the bytes that actually arrive, not with the
	// length a (possibly corrupt) prefix claims: a truncated archive never
	// costs a 16 MiB allocation.
	b := append(ar.buf[:0], lb[:]...)
	for len(b) < int(l) {
		chunk := min(int(l)-len(b), 1<<20)
		b = slices.Grow(b, chunk)
		k, err := io.ReadFull(ar.r, b[len(b):len(b)+chunk])
		b = b[:len(b)+k]
		if err != nil {
			ar.buf = b
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return nil, FormatErr("truncated document")
			}
			return nil, err
		}
	}
	ar.buf = b
	raw := bson.Raw(b)
	if err := raw.Validate(); err != nil {
		return nil, FormatErr("invalid BSON document: %v", err)
	}
	return raw, nil
}

// Read parses an archive from r, checking its structure and every
// namespace's CRC-64, and hands its contents to h (any field may be nil).
// An error of h's stops the read and is returned as is.
func Read(r *bufio.Reader, h Handler) error {
	ar := NewDocReader(r)
	var mb [4]byte
	if _, err := io.ReadFull(ar.r, mb[:]); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return FormatErr("truncated magic number")
		}
		return err
	}
	if m := binary.LittleEndian.Uint32(mb[:]); m != Magic {
		return FormatErr("magic number %#x", m)
	}
	raw, err := ar.Next(false)
	if err != nil {
		return err
	}
	if raw == nil {
		return FormatErr("no prelude header")
	}
	hdr, err := parseHeader(raw)
	if err != nil {
		return FormatErr("prelude header: %v", err)
	}
	if hdr.Version != ArchiveVersion {
		return FormatErr("archive version %q (this code reads %q)", hdr.Version, ArchiveVersion)
	}
	var colls []CollectionMetadata
	for {
		raw, err := ar.Next(false)
		if err != nil {
			return err
		}
		if raw == nil {
			break
		}
		c, err := parseCollectionMetadata(raw)
		if err != nil {
			return FormatErr("collection metadata: %v", err)
		}
		if c.DB == "" || c.Collection == "" {
			return FormatErr("collection metadata without a namespace")
		}
		colls = append(colls, c)
	}
	if h.Prelude != nil {
		if err := h.Prelude(hdr, colls); err != nil {
			return err
		}
	}
	type state struct {
		crc  hash.Hash64
		docs int64
		done bool
	}
	open := map[string]*state{}
	for {
		raw, err := ar.Next(true)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if raw == nil {
			return FormatErr("terminator where a namespace header belongs")
		}
		nh, err := parseNSHeader(raw)
		if err != nil {
			return FormatErr("namespace header: %v", err)
		}
		ns := nh.db + "." + nh.coll
		if nh.db == "" || nh.coll == "" {
			return FormatErr("namespace header without a namespace")
		}
		st := open[ns]
		if st == nil {
			st = &state{crc: crc64.New(CRCTable)}
			open[ns] = st
		}
		if st.done {
			return FormatErr("%s continues after its end", ns)
		}
		if nh.eof {
			if got := int64(st.crc.Sum64()); got != nh.crc {
				return FormatErr("%s: CRC-64 %#x, the archive says %#x", ns, uint64(got), uint64(nh.crc))
			}
			st.done = true
			if t, err := ar.Next(false); err != nil {
				return err
			} else if t != nil {
				return FormatErr("%s: no terminator after its end", ns)
			}
			if h.End != nil {
				if err := h.End(nh.db, nh.coll, st.docs); err != nil {
					return err
				}
			}
			continue
		}
		if h.Segment != nil {
			if err := h.Segment(nh.db, nh.coll); err != nil {
				return err
			}
		}
		for {
			doc, err := ar.Next(false)
			if err != nil {
				return err
			}
			if doc == nil {
				break
			}
			st.crc.Write(doc)
			st.docs++
			if h.Doc != nil {
				if err := h.Doc(nh.db, nh.coll, doc); err != nil {
					return err
				}
			}
		}
	}
	for ns, st := range open {
		if !st.done {
			return FormatErr("%s has no end: truncated archive", ns)
		}
	}
	// mongodump ends every namespace of its prelude, empty ones too: one
	// without its end is an archive cut between two namespaces.
	for _, c := range colls {
		if st := open[c.DB+"."+c.Collection]; st == nil || !st.done {
			return FormatErr("%s.%s of the prelude has no end: truncated archive", c.DB, c.Collection)
		}
	}
	return nil
}

type nsHeader struct {
	db, coll string
	eof      bool
	crc      int64
}

// The framing documents are read field by field from the validated raw
// bytes instead of through bson.Unmarshal: a namespace header comes with
// every segment (mongodump interleaves collections), and reflection there
// cost more than the framing itself (and made the fuzz target's minimiser
// crawl). An absent field is its zero value, as with Unmarshal; one of
// another type is an error.

func rawString(raw bson.Raw, key string) (string, error) {
	v, err := raw.LookupErr(key)
	if err != nil {
		return "", nil
	}
	s, ok := v.StringValueOK()
	if !ok {
		return "", fmt.Errorf("%s is a BSON %s, not a string", key, v.Type)
	}
	return s, nil
}

func rawInt(raw bson.Raw, key string) (int64, error) {
	v, err := raw.LookupErr(key)
	if err != nil {
		return 0, nil
	}
	switch v.Type {
	case bson.TypeInt32:
		return int64(v.Int32()), nil
	case bson.TypeInt64:
		return v.Int64(), nil
	}
	return 0, fmt.Errorf("%s is a BSON %s, not an integer", key, v.Type)
}

func rawBool(raw bson.Raw, key string) (bool, error) {
	v, err := raw.LookupErr(key)
	if err != nil {
		return false, nil
	}
	b, ok := v.BooleanOK()
	if !ok {
		return false, fmt.Errorf("%s is a BSON %s, not a boolean", key, v.Type)
	}
	return b, nil
}

func parseHeader(raw bson.Raw) (Header, error) {
	var h Header
	cc, err := rawInt(raw, "concurrent_collections")
	if err == nil {
		h.ConcurrentCollections = int32(cc)
		h.Version, err = rawString(raw, "version")
	}
	if err == nil {
		h.ServerVersion, err = rawString(raw, "server_version")
	}
	if err == nil {
		h.ToolVersion, err = rawString(raw, "tool_version")
	}
	return h, err
}

func parseCollectionMetadata(raw bson.Raw) (CollectionMetadata, error) {
	var c CollectionMetadata
	var size int64
	var err error
	for _, f := range []struct {
		key string
		s   *string
	}{{"db", &c.DB}, {"collection", &c.Collection}, {"metadata", &c.Metadata}, {"type", &c.Type}} {
		if *f.s, err = rawString(raw, f.key); err != nil {
			return c, err
		}
	}
	size, err = rawInt(raw, "size")
	c.Size = int32(size)
	return c, err
}

func parseNSHeader(raw bson.Raw) (nsHeader, error) {
	var h nsHeader
	var err error
	if h.db, err = rawString(raw, "db"); err != nil {
		return h, err
	}
	if h.coll, err = rawString(raw, "collection"); err != nil {
		return h, err
	}
	if h.eof, err = rawBool(raw, "EOF"); err != nil {
		return h, err
	}
	h.crc, err = rawInt(raw, "CRC")
	return h, err
}
