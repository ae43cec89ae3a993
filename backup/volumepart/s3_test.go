//go:build !lucidfuzz

package volumepart_test

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/HamiGames/lucid-data/backup"
	"github.com/HamiGames/lucid-data/backup/s3sink"
	"github.com/HamiGames/lucid-data/backup/volumepart"
	"github.com/HamiGames/lucid-data/internal/testenv"
)

// An incremental chain in S3 (versitygw): each incremental reads its
// bases' heads with GETs closed after the first members, the chain verifies and
// restores each point exactly.
func TestIncrementalChainS3(t *testing.T) {
	srv := testenv.S3(t)
	hc := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	t.Cleanup(hc.CloseIdleConnections)
	sink, err := s3sink.New(s3sink.Config{HTTPClient: hc, Bucket: srv.Bucket, Prefix: "volumepart/", Endpoint: srv.Endpoint,
		Region: srv.Region, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, UsePathStyle: true, PartSize: 5 << 20,
		Concurrency: 2, AbortTimeout: 5 * time.Second})
	must(t, err)
	id, err := age.GenerateX25519Identity()
	must(t, err)
	cc := &volumepart.ChainChecker{}
	m, err := backup.New(sink, backup.Config{Level: 1, Recipients: []age.Recipient{id.Recipient()}, Identities: []age.Identity{id},
		Checkers: map[string]backup.Checker{volumepart.Kind: cc}})
	must(t, err)
	cc.Manager = m
	ctx := context.Background()
	src := filepath.Join(t.TempDir(), "vol")
	makeTree(t, src, 6<<20) // more than a multipart part
	var ids []string
	var want [][]string
	for i := 0; i < 3; i++ {
		if i > 0 {
			chainSteps[i](t, src)
		}
		part, err := volumepart.Next(ctx, m, "v", src, 0)
		must(t, err)
		man, err := m.Backup(ctx, []backup.Part{part}, nil)
		must(t, err)
		ids, want = append(ids, man.ID), append(want, treeManifest(t, src))
	}
	if _, err := m.Verify(ctx, ids[2]); err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		dst := filepath.Join(t.TempDir(), "r")
		if _, err := volumepart.RestoreChain(ctx, m, id, "v", volumepart.Restorer{Dir: dst}); err != nil {
			t.Fatalf("point %d: %v", i, err)
		}
		diffTrees(t, want[i], treeManifest(t, dst))
	}
}
