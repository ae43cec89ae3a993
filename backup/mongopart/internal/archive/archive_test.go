package archive

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc64"
	"os"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// segment is one namespace segment of a test archive: docs of db.coll, or
// the namespace's end when end is set.
type segment struct {
	coll string
	docs []bson.D
	end  bool
}

// build writes an archive of database "d" with collections colls in its
// prelude and the segments given, CRCs computed.
func build(t testing.TB, colls []string, segs []segment) []byte {
	t.Helper()
	var buf bytes.Buffer
	put := func(v any) {
		b, err := bson.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(b)
	}
	term := func() { buf.Write([]byte{0xff, 0xff, 0xff, 0xff}) }
	buf.Write(binary.LittleEndian.AppendUint32(nil, Magic))
	put(bson.D{{Key: "concurrent_collections", Value: int32(2)}, {Key: "version", Value: ArchiveVersion}})
	for _, c := range colls {
		put(bson.D{{Key: "db", Value: "d"}, {Key: "collection", Value: c}})
	}
	term()
	crc := map[string]uint64{}
	for _, s := range segs {
		if s.end {
			put(bson.D{{Key: "db", Value: "d"}, {Key: "collection", Value: s.coll}, {Key: "EOF", Value: true}, {Key: "CRC", Value: int64(crc[s.coll])}})
			term()
			continue
		}
		put(bson.D{{Key: "db", Value: "d"}, {Key: "collection", Value: s.coll}})
		for _, d := range s.docs {
			b, err := bson.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			crc[s.coll] = crc64.Update(crc[s.coll], CRCTable, b)
			buf.Write(b)
		}
		term()
	}
	return buf.Bytes()
}

// tiny: two namespaces interleaved, two segments each, one empty.
func tiny(t testing.TB) []byte {
	doc := func(i int32) []bson.D { return []bson.D{{{Key: "_id", Value: i}}} }
	return build(t, []string{"a", "b", "e"}, []segment{
		{coll: "a", docs: doc(1)}, {coll: "b", docs: doc(2)}, {coll: "a", docs: doc(3)}, {coll: "b", docs: doc(4)},
		{coll: "a", end: true}, {coll: "b", end: true}, {coll: "e", end: true},
	})
}

func count(b []byte) (map[string]int64, error) {
	n := map[string]int64{}
	err := Read(bufio.NewReader(bytes.NewReader(b)), Handler{
		Doc: func(db, coll string, _ bson.Raw) error { n[db+"."+coll]++; return nil },
	})
	return n, err
}

func TestReadInterleaved(t *testing.T) {
	n, err := count(tiny(t))
	if err != nil || n["d.a"] != 2 || n["d.b"] != 2 || len(n) != 2 {
		t.Fatalf("%v %v", n, err)
	}
}

func TestReadRejects(t *testing.T) {
	doc := []bson.D{{{Key: "_id", Value: 1}}}
	for name, b := range map[string][]byte{
		"continues-after-end": build(t, []string{"a"}, []segment{{coll: "a", docs: doc}, {coll: "a", end: true}, {coll: "a", docs: doc}}),
		"no-end":              build(t, []string{"a"}, []segment{{coll: "a", docs: doc}}),
		"prelude-not-ended":   build(t, []string{"a", "b"}, []segment{{coll: "a", docs: doc}, {coll: "a", end: true}}),
		"truncated":           tiny(t)[:60],
	} {
		if _, err := count(b); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: %v", name, err)
		}
	}
	bad := tiny(t)
	bad[len(bad)-30] ^= 1 // inside e's end header: its CRC or a key
	if _, err := count(bad); !errors.Is(err, ErrFormat) {
		t.Errorf("flipped end header: %v", err)
	}
	// A header field of the wrong type is a format error, not a zero.
	wrong := build(t, nil, nil)
	wrong = append(wrong[:4], func() []byte {
		b, _ := bson.Marshal(bson.D{{Key: "version", Value: int32(1)}})
		return b
	}()...)
	if _, err := count(wrong); !errors.Is(err, ErrFormat) {
		t.Errorf("version of the wrong type: %v", err)
	}
}

// maxInput bounds FuzzArchiveReader's inputs. Go's minimiser tries O(n²)
// candidates for an input of n bytes, each a whole execution with the
// coverage counters snapshotted; every framing branch is reached well
// under the bound (tiny is about 450 bytes).
const maxInput = 4 << 10

func FuzzArchiveReader(f *testing.F) {
	f.Add(tiny(f))
	// What mongodump 100.18 wrote from FerretDB (mongopart's testdata).
	if b, err := os.ReadFile("../../testdata/mongodump-ferretdb.archive"); err == nil {
		f.Add(b)
	} else {
		f.Fatal(err)
	}
	f.Add(binary.LittleEndian.AppendUint32(nil, Magic))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > maxInput {
			return
		}
		// One pass, documents validated by the reader and not decoded: what
		// parses counts the same in its documents as in its namespaces'
		// ends, and each document is as long as it says.
		var docs, ended int64
		err := Read(bufio.NewReader(bytes.NewReader(b)), Handler{
			Doc: func(_, _ string, doc bson.Raw) error {
				if int(binary.LittleEndian.Uint32(doc)) != len(doc) {
					t.Fatalf("document of %d bytes says %d", len(doc), binary.LittleEndian.Uint32(doc))
				}
				docs++
				return nil
			},
			End: func(_, _ string, n int64) error { ended += n; return nil },
		})
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error not ErrFormat: %v", err)
			}
			return
		}
		if docs != ended {
			t.Fatalf("%d documents read, the namespaces' ends count %d", docs, ended)
		}
	})
}
