//go:build !lucidfuzz

package mongopart_test

import (
	"crypto/sha256"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/HamiGames/lucid-data/backup/mongopart"
	"github.com/HamiGames/lucid-data/internal/testenv"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// interleavedArchive is what mongodump 100.18 (../shared/tools/mongo-tools)
// wrote from FerretDB v1.24.2 with
//
//	mongodump --db D --numParallelCollections=2 --gzip --archive=FILE
//
// for a database holding big0 and big1 (three documents each, {_id: i,
// coll, pad: 6,000,000 times the name's last character}) and small (500
// documents {_id: i, coll: "small"}, index by_coll {coll: 1, _id: -1}).
// mongodump buffers up to 16 MiB of a collection before writing it out as
// one segment, so big0 and big1 take two segments each, and dumped at once
// theirs alternate: small, big0, big1, big0, big1. Whether they alternate
// depends on mongodump's goroutines (one dump in four did so here, none in
// three under the race detector), so the file is kept rather than made on
// each run; gzip makes its 36 MB of repeated characters 37 KB.
const interleavedArchive = "testdata/mongodump-interleaved.archive.gz"

// TestRestoreInterleavedMongodumpArchive: the SDK reads mongodump's
// interleaved segments, checks each namespace's CRC across them and
// restores every collection whole.
func TestRestoreInterleavedMongodumpArchive(t *testing.T) {
	ctx := ctxT(t)
	read := func(h mongopart.ArchiveHandler) {
		t.Helper()
		f, err := os.Open(interleavedArchive)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		in, err := mongopart.Decompress(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := mongopart.ReadArchive(in, h); err != nil {
			t.Fatal(err)
		}
	}
	var order []string
	sums := map[string][][32]byte{} // each document's SHA-256, in archive order
	var db string
	read(mongopart.ArchiveHandler{
		Segment: func(d, coll string) error { db = d; order = append(order, coll); return nil },
		Doc: func(_, coll string, doc bson.Raw) error {
			sums[coll] = append(sums[coll], sha256.Sum256(doc))
			return nil
		},
	})
	if want := []string{"small", "big0", "big1", "big0", "big1"}; !slices.Equal(order, want) {
		t.Fatalf("segments %v, want %v", order, want)
	}
	if len(sums["big0"]) != 3 || len(sums["big1"]) != 3 || len(sums["small"]) != 500 {
		t.Fatalf("documents: big0 %d, big1 %d, small %d", len(sums["big0"]), len(sums["big1"]), len(sums["small"]))
	}

	c := testenv.Mongo(t).Client()
	scratch := testenv.Namespace(t)
	dropLater(t, c, scratch)
	f, err := os.Open(interleavedArchive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var res mongopart.Result
	st, err := mongopart.Restorer{Client: c, Rename: map[string]string{db: scratch}, BatchDocs: 100, Result: &res}.RestoreArchive(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	if st.Records != 506 || res.Inserted != 506 || res.Indexes != 1 {
		t.Fatalf("stats %+v result %+v", st, res)
	}
	for coll, want := range sums {
		got := docs(t, c.Database(scratch).Collection(coll)) // by _id: the archive's order
		if len(got) != len(want) {
			t.Fatalf("%s: %d documents restored, %d in the archive", coll, len(got), len(want))
		}
		for i := range got {
			if sha256.Sum256(got[i]) != want[i] {
				t.Fatalf("%s: document %d differs from the archive's: %.200s", coll, i, got[i])
			}
		}
	}
	last := docs(t, c.Database(scratch).Collection("big1"))[2]
	if pad := last.Lookup("pad").StringValue(); len(pad) != 6_000_000 || strings.Trim(pad, "1") != "" {
		t.Fatalf("big1's last pad: %d bytes", len(pad))
	}
	if got := indexNames(t, c.Database(scratch).Collection("small")); len(got) != 2 {
		t.Fatalf("small has indexes %v, want _id_ and by_coll", got)
	}
}
