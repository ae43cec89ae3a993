package testenv

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/HamiGames/lucid-data/mongostore"
	"github.com/HamiGames/lucid-data/search"
)

// TestNotExercised names what the SDK supports but this run's servers lack,
// probed the way the SDK probes them (mongostore's Features, search's
// lifecycle plugins), so that a green run on FerretDB or OpenSearch is not
// read as proof of code that only a real MongoDB or Elasticsearch reaches.
// The test command prints these lines at the end of its run.
func TestNotExercised(t *testing.T) {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	db, err := mongostore.Connect(c, mongostore.Config{URI: MongoURI(t), Database: Namespace(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(context.Background())
	h, err := db.Health(c)
	if err != nil {
		t.Fatal(err)
	}
	_ = db.Database().Drop(c) // the probes' scratch collections
	var lacks []string
	for _, f := range []struct {
		name string
		ok   bool
	}{
		{"$jsonSchema validators (client-side validation ran instead)", h.Features.Validators},
		{"TTL indexes", h.Features.TTLIndexes},
		{"text indexes", h.Features.TextIndexes},
		{"multi-document transactions", h.Features.Transactions},
		{"change streams", h.Features.ChangeStreams},
		{"sharding (mongos)", h.Features.Sharding},
		{"sparse unique indexes", h.Features.SparseIndexes},
	} {
		if !f.ok {
			lacks = append(lacks, f.name)
		}
	}
	server := h.Product + " " + h.Version
	if h.Product == "FerretDB" {
		server = "FerretDB (reporting MongoDB " + h.Version + ")"
	}
	report(t, server, lacks)

	s := Search(t)
	sc, err := search.Connect(c, search.Config{Addresses: []string{s.URL}})
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	sh, err := sc.Health(c)
	if err != nil {
		t.Fatal(err)
	}
	lacks = nil
	if !sh.ILM {
		lacks = append(lacks, "ILM (Elasticsearch's lifecycle policies)")
	}
	if !sh.ISM {
		lacks = append(lacks, "ISM (OpenSearch's lifecycle policies; the SDK's own lifecycle runner ran instead)")
	}
	if sh.Nodes < 2 {
		lacks = append(lacks, "replica shards and multi-node failover (one node)")
	}
	report(t, string(sh.Product)+" "+sh.Version, lacks)
}

func report(t *testing.T, server string, lacks []string) {
	if len(lacks) == 0 {
		t.Logf("testenv: not exercised on %s: nothing the SDK probes for", server)
		return
	}
	t.Logf("testenv: not exercised on %s: %s", server, strings.Join(lacks, "; "))
}
