package mongopart

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"hash"
	"hash/crc64"
	"os"
	"strings"
	"testing"

	"github.com/HamiGames/lucid-data/backup"
	"github.com/HamiGames/lucid-data/backup/mongopart/internal/archive"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// These tests need no server: they hold the format code to every BSON type,
// those FerretDB v1 refuses included.

func allTypes(t testing.TB, big bool) []bson.Raw {
	t.Helper()
	dec, err := bson.ParseDecimal128("12345.6789e-10")
	if err != nil {
		t.Fatal(err)
	}
	oid := bson.NewObjectID()
	docs := []bson.D{
		{{Key: "_id", Value: 1}, {Key: "dec", Value: dec}, {Key: "min", Value: bson.MinKey{}}, {Key: "max", Value: bson.MaxKey{}}},
		{{Key: "_id", Value: 2}, {Key: "js", Value: bson.JavaScript("function(){return 1}")},
			{Key: "jsws", Value: bson.CodeWithScope{Code: "x", Scope: bson.D{{Key: "x", Value: 1}}}},
			{Key: "sym", Value: bson.Symbol("sym")}, {Key: "undef", Value: bson.Undefined{}},
			{Key: "dbp", Value: bson.DBPointer{DB: "lucid.users", Pointer: oid}}},
		{{Key: "_id", Value: oid}, {Key: "bin", Value: bson.Binary{Subtype: 3, Data: make([]byte, 16)}},
			{Key: "re", Value: bson.Regex{Pattern: "a|b", Options: "ms"}}, {Key: "ts", Value: bson.Timestamp{T: 1, I: 2}},
			{Key: "nested", Value: bson.A{bson.A{1, bson.A{2, bson.A{}}}, bson.A{}}}, {Key: "null", Value: nil}},
	}
	if big {
		docs = append(docs, bson.D{{Key: "_id", Value: "big"}, {Key: "s", Value: strings.Repeat("b", 16<<20-100)}})
	}
	out := make([]bson.Raw, len(docs))
	for i, d := range docs {
		b, err := bson.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = b
	}
	return out
}

// writeArchive writes docs into namespace lucid.types and an empty
// lucid.none.
func writeArchive(t testing.TB, docs []bson.Raw) []byte {
	t.Helper()
	var buf bytes.Buffer
	meta, err := MarshalMetadata(Metadata{Name: "types", Type: "collection", Indexes: []bson.D{{{Key: "v", Value: 2}, {Key: "key", Value: bson.D{{Key: "_id", Value: 1}}}, {Key: "name", Value: "_id_"}}}})
	if err != nil {
		t.Fatal(err)
	}
	aw, err := newArchiveWriter(&buf, Header{ConcurrentCollections: 1, Version: ArchiveVersion, ToolVersion: ToolVersion},
		[]CollectionMetadata{{DB: "lucid", Collection: "types", Metadata: meta, Type: "collection"}, {DB: "lucid", Collection: "none", Type: "collection"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range []struct {
		coll string
		docs []bson.Raw
	}{{"types", docs}, {"none", nil}} {
		if err := aw.begin("lucid", ns.coll); err != nil {
			t.Fatal(err)
		}
		for _, d := range ns.docs {
			if err := aw.write(d); err != nil {
				t.Fatal(err)
			}
		}
		if err := aw.end("lucid", ns.coll); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func readAll(t testing.TB, b []byte) (map[string][]bson.Raw, []CollectionMetadata, error) {
	got := map[string][]bson.Raw{}
	var colls []CollectionMetadata
	err := ReadArchive(bytes.NewReader(b), ArchiveHandler{
		Prelude: func(_ Header, c []CollectionMetadata) error { colls = c; return nil },
		Doc: func(db, coll string, doc bson.Raw) error {
			got[db+"."+coll] = append(got[db+"."+coll], append(bson.Raw(nil), doc...))
			return nil
		},
	})
	return got, colls, err
}

func TestFormatRoundTripAllTypes(t *testing.T) {
	docs := allTypes(t, true)
	arch := writeArchive(t, docs)
	got, colls, err := readAll(t, arch)
	if err != nil {
		t.Fatal(err)
	}
	if len(colls) != 2 || colls[0].Collection != "types" {
		t.Fatalf("prelude %+v", colls)
	}
	m, err := ParseMetadata([]byte(colls[0].Metadata))
	if err != nil || len(m.Indexes) != 1 || m.Name != "types" {
		t.Fatalf("metadata %+v %v", m, err)
	}
	if len(got["lucid.types"]) != len(docs) {
		t.Fatalf("%d docs", len(got["lucid.types"]))
	}
	for i := range docs {
		if !bytes.Equal(got["lucid.types"][i], docs[i]) {
			t.Fatalf("doc %d differs", i)
		}
	}
	// gzip is detected; counts name every namespace, empty ones too.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(arch)
	zw.Close()
	st, err := CheckArchive(context.Background(), &gz)
	if err != nil || st.Records != int64(len(docs)) || st.Counts["lucid.types"] != int64(len(docs)) || st.Counts["lucid.none"] != 0 || len(st.Counts) != 2 {
		t.Fatalf("check %+v %v", st, err)
	}
}

func TestFormatCorruption(t *testing.T) {
	docs := allTypes(t, false) // small enough to cut at every byte
	arch := writeArchive(t, docs)
	for n := range len(arch) {
		if _, _, err := readAll(t, arch[:n]); !errors.Is(err, ErrFormat) {
			t.Fatalf("cut at %d of %d: %v", n, len(arch), err)
		}
	}
	// A flipped byte inside a string of a document passes BSON validation
	// but not the CRC.
	i := bytes.Index(arch, []byte("function"))
	bad := bytes.Clone(arch)
	bad[i] ^= 0x20
	if _, _, err := readAll(t, bad); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "CRC-64") {
		t.Fatalf("flipped byte: %v", err)
	}
	_, err := Checker{}.Check(context.Background(), backup.PartManifest{Name: "mongodb"}, bytes.NewReader(bad))
	if !errors.Is(err, backup.ErrCorrupt) {
		t.Fatalf("checker: %v", err)
	}
	bad = bytes.Clone(arch)
	bad[0] ^= 1
	if _, _, err := readAll(t, bad); !errors.Is(err, ErrFormat) {
		t.Fatalf("magic: %v", err)
	}
}

// TestReadsMongodumpArchive parses what mongodump 100.18 wrote from
// FerretDB (testdata), to the CRC that hash/crc64's ECMA table computes.
func TestReadsMongodumpArchive(t *testing.T) {
	b, err := os.ReadFile("testdata/mongodump-ferretdb.archive")
	if err != nil {
		t.Fatal(err)
	}
	got, colls, err := readAll(t, b)
	if err != nil {
		t.Fatal(err)
	}
	if len(colls) != 2 || len(got) != 1 {
		t.Fatalf("prelude %+v docs %v", colls, got)
	}
	for _, c := range colls {
		m, err := ParseMetadata([]byte(c.Metadata))
		if err != nil || len(m.Indexes) == 0 || m.UUID == "" {
			t.Fatalf("%s: %+v %v", c.Collection, m, err)
		}
	}
	// Our writer, given mongodump's prelude and documents in its order,
	// writes mongodump's bytes.
	var hdr Header
	var order []string
	if err := ReadArchive(bytes.NewReader(b), ArchiveHandler{
		Prelude: func(h Header, _ []CollectionMetadata) error { hdr = h; return nil },
		End:     func(db, coll string, _ int64) error { order = append(order, db+"."+coll); return nil },
	}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	aw, err := newArchiveWriter(&buf, hdr, colls)
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range order {
		db, coll, _ := strings.Cut(ns, ".")
		aw.begin(db, coll)
		for _, d := range got[ns] {
			aw.write(d)
		}
		aw.end(db, coll)
	}
	if !bytes.Equal(buf.Bytes(), b) {
		t.Fatalf("our writer's %d bytes differ from mongodump's %d", buf.Len(), len(b))
	}
}

// tinyArchive is a small archive with every framing element: two
// namespaces interleaved (two segments each, as mongodump writes
// concurrent collections), one empty, no metadata.
func tinyArchive(t testing.TB) []byte {
	t.Helper()
	doc := func(v int32) []byte {
		b, err := bson.Marshal(bson.D{{Key: "_id", Value: v}})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var buf bytes.Buffer
	aw, err := newArchiveWriter(&buf, Header{ConcurrentCollections: 2, Version: ArchiveVersion},
		[]CollectionMetadata{{DB: "d", Collection: "a"}, {DB: "d", Collection: "b"}, {DB: "d", Collection: "e"}})
	if err != nil {
		t.Fatal(err)
	}
	crc := map[string]hash.Hash64{"a": crc64.New(crcTable), "b": crc64.New(crcTable), "e": crc64.New(crcTable)}
	for i, coll := range []string{"a", "b", "a", "b"} {
		if err := aw.doc(nsHeader{DB: "d", Collection: coll}); err != nil {
			t.Fatal(err)
		}
		d := doc(int32(i))
		crc[coll].Write(d)
		if err := aw.write(d); err != nil {
			t.Fatal(err)
		}
		if err := aw.terminate(); err != nil {
			t.Fatal(err)
		}
	}
	for _, coll := range []string{"a", "b", "e"} {
		if err := aw.doc(nsHeader{DB: "d", Collection: coll, EOF: true, CRC: int64(crc[coll].Sum64())}); err != nil {
			t.Fatal(err)
		}
		if err := aw.terminate(); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// The format's constants are spelled out here for godoc and in
// internal/archive for the reader: they must agree.
func TestConstantsAgree(t *testing.T) {
	if Magic != archive.Magic || ArchiveVersion != archive.ArchiveVersion || MaxDocSize != archive.MaxDocSize {
		t.Fatal("mongopart's format constants differ from internal/archive's")
	}
}

// TestReadsInterleavedSegments: namespaces come in several segments each,
// interleaved, as mongodump writes concurrent collections.
func TestReadsInterleavedSegments(t *testing.T) {
	b := tinyArchive(t)
	got, colls, err := readAll(t, b)
	if err != nil || len(colls) != 3 || len(got["d.a"]) != 2 || len(got["d.b"]) != 2 || len(got["d.e"]) != 0 {
		t.Fatalf("%v %v %v", got, colls, err)
	}
	st, err := CheckArchive(context.Background(), bytes.NewReader(b))
	if err != nil || st.Records != 4 || st.Counts["d.a"] != 2 || st.Counts["d.e"] != 0 {
		t.Fatalf("%+v %v", st, err)
	}
}
