package mongopart

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"hash"
	"hash/crc64"
	"io"

	"github.com/HamiGames/lucid-data/backup/mongopart/internal/archive"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// The mongodump archive format, as mongodump 100.x writes it (studied from
// its output): a little-endian magic number, the prelude — a header
// document, one metadata document per collection, a terminator — and then
// namespace segments. A segment is a namespace header {db, collection,
// EOF: false, CRC: 0}, the collection's documents as raw BSON and a
// terminator; a namespace ends with a header {EOF: true, CRC} and a
// terminator, CRC being the CRC-64/ECMA (hash/crc64 with crc64.ECMA) of
// the bytes of all of its documents.
const (
	// Magic is the archive's first four bytes, little-endian.
	Magic uint32 = 0x8199e26d
	// ArchiveVersion is the prelude's "version" field mongodump writes and
	// this package reads.
	ArchiveVersion = "0.1"
	// MaxDocSize bounds one document of an archive: the server's 16 MiB
	// plus the 16 KiB of slack the server allows internal documents.
	MaxDocSize = 16<<20 + 16<<10
)

const terminator = archive.Terminator

// crcTable is the CRC-64/ECMA table of the namespace checksums.
var crcTable = archive.CRCTable

// Header is the prelude's first document.
type Header struct {
	ConcurrentCollections int32  `bson:"concurrent_collections"`
	Version               string `bson:"version"`
	ServerVersion         string `bson:"server_version"`
	ToolVersion           string `bson:"tool_version"`
}

// CollectionMetadata is one collection's entry of the prelude. Metadata is
// the JSON mongodump writes beside a collection in directory dumps
// (canonical Extended JSON of {indexes, uuid, collectionName, type,
// options}); see ParseMetadata.
type CollectionMetadata struct {
	DB         string `bson:"db"`
	Collection string `bson:"collection"`
	Metadata   string `bson:"metadata"`
	Size       int32  `bson:"size"`
	Type       string `bson:"type"`
}

// Metadata is the parsed Metadata JSON of a collection.
type Metadata struct {
	Options bson.D   `bson:"options,omitempty"`
	Indexes []bson.D `bson:"indexes"`
	UUID    string   `bson:"uuid,omitempty"`
	Name    string   `bson:"collectionName,omitempty"`
	Type    string   `bson:"type,omitempty"`
}

// ParseMetadata decodes a collection's metadata JSON (the prelude's
// metadata string, or a .metadata.json file of a directory dump).
func ParseMetadata(b []byte) (Metadata, error) {
	var m Metadata
	if len(b) == 0 {
		return m, nil
	}
	if err := bson.UnmarshalExtJSON(b, false, &m); err != nil {
		return m, fmt.Errorf("mongopart: collection metadata: %w", err)
	}
	return m, nil
}

// MarshalMetadata renders m as mongodump writes it: canonical Extended
// JSON, without HTML escaping.
func MarshalMetadata(m Metadata) (string, error) {
	b, err := bson.MarshalExtJSON(m, true, false)
	if err != nil {
		return "", fmt.Errorf("mongopart: collection metadata: %w", err)
	}
	return string(b), nil
}

type nsHeader struct {
	DB         string `bson:"db"`
	Collection string `bson:"collection"`
	EOF        bool   `bson:"EOF"`
	CRC        int64  `bson:"CRC"`
}

// archiveWriter writes an archive. Namespaces are written one after the
// other (concurrent_collections is 1), each in one segment.
type archiveWriter struct {
	w   io.Writer
	crc hash.Hash64
	buf [4]byte
}

func newArchiveWriter(w io.Writer, h Header, colls []CollectionMetadata) (*archiveWriter, error) {
	aw := &archiveWriter{w: w, crc: crc64.New(crcTable)}
	binary.LittleEndian.PutUint32(aw.buf[:], Magic)
	if _, err := w.Write(aw.buf[:]); err != nil {
		return nil, err
	}
	if err := aw.doc(h); err != nil {
		return nil, err
	}
	for _, c := range colls {
		if err := aw.doc(c); err != nil {
			return nil, err
		}
	}
	return aw, aw.terminate()
}

func (aw *archiveWriter) doc(v any) error {
	b, err := bson.Marshal(v)
	if err != nil {
		return err
	}
	_, err = aw.w.Write(b)
	return err
}

func (aw *archiveWriter) terminate() error {
	binary.LittleEndian.PutUint32(aw.buf[:], terminator)
	_, err := aw.w.Write(aw.buf[:])
	return err
}

// begin opens namespace db.coll.
func (aw *archiveWriter) begin(db, coll string) error {
	aw.crc.Reset()
	return aw.doc(nsHeader{DB: db, Collection: coll})
}

// write writes one raw document of the open namespace.
func (aw *archiveWriter) write(raw []byte) error {
	aw.crc.Write(raw)
	_, err := aw.w.Write(raw)
	return err
}

// end closes the open namespace's segment and the namespace itself.
func (aw *archiveWriter) end(db, coll string) error {
	if err := aw.terminate(); err != nil {
		return err
	}
	if err := aw.doc(nsHeader{DB: db, Collection: coll, EOF: true, CRC: int64(aw.crc.Sum64())}); err != nil {
		return err
	}
	return aw.terminate()
}

// errFormat marks an archive that does not parse; callers wrap it as
// backup.ErrCorrupt.
var errFormat = archive.ErrFormat

func formatErr(format string, args ...any) error { return archive.FormatErr(format, args...) }

// ArchiveHandler receives an archive's contents from ReadArchive. Any
// method may be nil. An error a method returns stops the read and is
// returned as is.
type ArchiveHandler struct {
	// Prelude receives the header and the collections' metadata before
	// any document.
	Prelude func(h Header, colls []CollectionMetadata) error
	// Segment is called where a segment of namespace db.coll begins. An
	// archive of concurrent collections (mongodump's default, four at a
	// time) interleaves them: a namespace comes in several segments, its
	// documents in order across them.
	Segment func(db, coll string) error
	// Doc receives each document of namespace db.coll. doc is only valid
	// during the call.
	Doc func(db, coll string, doc bson.Raw) error
	// End is called when namespace db.coll ends (its CRC checked), with
	// its document count.
	End func(db, coll string, docs int64) error
}

// ReadArchive parses a mongodump archive (ours or mongodump's, not
// compressed: see Decompress) from r, checking its structure and every
// namespace's CRC-64, and hands its contents to h. An archive that does not
// parse, is truncated or fails a CRC is an error wrapping ErrFormat.
func ReadArchive(r io.Reader, h ArchiveHandler) error {
	// Documents are read with io.ReadFull, which bypasses bufio's buffer
	// for large reads: a small buffer serves the 4-byte lengths.
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReader(r)
	}
	ah := archive.Handler{Segment: h.Segment, Doc: h.Doc, End: h.End}
	if h.Prelude != nil {
		ah.Prelude = func(hdr archive.Header, colls []archive.CollectionMetadata) error {
			cs := make([]CollectionMetadata, len(colls))
			for i, c := range colls {
				cs[i] = CollectionMetadata(c)
			}
			return h.Prelude(Header(hdr), cs)
		}
	}
	return archive.Read(br, ah)
}

// ErrFormat is matched (errors.Is) by the errors of ReadArchive for an
// archive that does not parse.
var ErrFormat = errFormat
