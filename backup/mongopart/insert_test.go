//go:build !lucidfuzz

package mongopart_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/HamiGames/lucid-data/backup/mongopart"
	"github.com/HamiGames/lucid-data/internal/testenv"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestRestoreInsertFailure: a document the server refuses (FerretDB v1
// has no arrays directly inside arrays) fails the restore with the
// server's error while other batches are in flight; the read stops, no
// index is created, and the workers end (goleak checks in TestMain).
func TestRestoreInsertFailure(t *testing.T) {
	ctx := ctxT(t)
	c := testenv.Mongo(t).Client()
	var docs []bson.Raw
	for i := range 5000 {
		d := bson.D{{Key: "_id", Value: i}, {Key: "n", Value: i}}
		if i == 2500 {
			d = append(d, bson.E{Key: "bad", Value: bson.A{bson.A{1}}})
		}
		b, err := bson.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, b)
	}
	arch, err := mongopart.OneNamespaceArchive("src", "items", docs)
	if err != nil {
		t.Fatal(err)
	}
	scratch := testenv.Namespace(t)
	dropLater(t, c, scratch)
	var res mongopart.Result
	r := mongopart.Restorer{Client: c, Rename: map[string]string{"src": scratch}, BatchDocs: 100, Workers: 3, Result: &res}
	_, err = r.RestoreArchive(ctx, bytes.NewReader(arch))
	if err == nil || !strings.Contains(err.Error(), "insert into items") || errors.Is(err, context.Canceled) {
		t.Fatalf("restore: %v", err)
	}
	if res.Inserted >= 5000 || res.Indexes != 0 {
		t.Fatalf("result %+v", res)
	}
	t.Logf("failed after %d documents: %v", res.Inserted, err)

	// A cancelled restore returns ctx's error, workers ended too.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := r.RestoreArchive(cctx, bytes.NewReader(arch)); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled restore: %v", err)
	}
}
