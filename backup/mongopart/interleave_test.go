//go:build !lucidfuzz

package mongopart_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/HamiGames/lucid-data/backup/mongopart"
	"github.com/HamiGames/lucid-data/internal/testenv"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// TestRestoreInterleavedMongodumpArchive: mongodump buffers up to 16 MiB
// of a collection before writing it out as one segment, so collections
// larger than that come in several segments, and dumped at once (-j 2)
// their segments interleave in the archive. The SDK reads the
// interleaving, checks each namespace's CRC across its segments and
// restores every collection whole.
func TestRestoreInterleavedMongodumpArchive(t *testing.T) {
	ctx := ctxT(t)
	src := testenv.Mongo(t)
	c := src.Client()
	colls := []string{"big0", "big1", "small"}
	for _, name := range colls[:2] {
		// Three 6 MB documents: two fill mongodump's buffer, the third
		// makes a second segment.
		for i := range 3 {
			doc := bson.D{{Key: "_id", Value: i}, {Key: "coll", Value: name}, {Key: "pad", Value: strings.Repeat(name[len(name)-1:], 6_000_000)}}
			if _, err := src.Collection(name).InsertOne(ctx, doc); err != nil {
				t.Fatal(err)
			}
		}
	}
	var small []any
	for i := range 500 {
		small = append(small, bson.D{{Key: "_id", Value: i}, {Key: "coll", Value: "small"}})
	}
	if _, err := src.Collection("small").InsertMany(ctx, small); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Collection("small").Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "coll", Value: 1}, {Key: "_id", Value: -1}}, Options: options.Index().SetName("by_coll")}); err != nil {
		t.Fatal(err)
	}
	// Whether the two dumps' segments alternate depends on mongodump's
	// goroutines' scheduling: a few tries, each a real dump.
	file := filepath.Join(t.TempDir(), "dump.archive")
	var order []string
	var hdr mongopart.Header
	interleaved := func() bool {
		first := map[string]int{}
		for i, ns := range order {
			if j, ok := first[ns]; ok && j < i-1 && order[i-1] != ns {
				return true
			}
			if _, ok := first[ns]; !ok {
				first[ns] = i
			}
		}
		return false
	}
	for try := 0; try < 3; try++ {
		runTool(t, "mongodump", "--uri", testenv.MongoURI(t), "--db", src.Name(), "--numParallelCollections=2", "--archive="+file)
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		order = nil
		err = mongopart.ReadArchive(f, mongopart.ArchiveHandler{
			Prelude: func(h mongopart.Header, _ []mongopart.CollectionMetadata) error { hdr = h; return nil },
			Segment: func(_, coll string) error { order = append(order, coll); return nil },
		})
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if interleaved() {
			break
		}
	}
	t.Logf("mongodump -j 2: concurrent_collections %d, segments in order %v", hdr.ConcurrentCollections, order)
	if !interleaved() {
		t.Fatalf("mongodump wrote no interleaved archive in 3 tries: segments %v", order)
	}

	scratch := testenv.Namespace(t)
	dropLater(t, c, scratch)
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var res mongopart.Result
	st, err := mongopart.Restorer{Client: c, Rename: map[string]string{src.Name(): scratch}, BatchDocs: 700, Result: &res}.RestoreArchive(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	if st.Records != 506 || res.Inserted != 506 || res.Indexes != 1 {
		t.Fatalf("stats %+v result %+v", st, res)
	}
	if st.Counts[src.Name()+".big0"] != 3 || st.Counts[src.Name()+".big1"] != 3 || st.Counts[src.Name()+".small"] != 500 {
		t.Fatalf("counts %v", st.Counts)
	}
	sameDocs(t, src, c.Database(scratch), colls...)
	if got := indexNames(t, c.Database(scratch).Collection("small")); len(got) != 2 {
		t.Fatalf("small has indexes %v, want _id_ and by_coll", got)
	}
}
