//go:build !lucidfuzz

package searchpart_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/HamiGames/lucid-data/backup"
	"github.com/HamiGames/lucid-data/backup/searchpart"
	"github.com/HamiGames/lucid-data/errkind"
	"github.com/HamiGames/lucid-data/internal/testenv"
	"github.com/HamiGames/lucid-data/search"
)

// A location outside the node's path.repo and a repository that does not
// exist (no lucid_backup here): every snapshot call says so with
// ErrUnsupported.
func TestSnapshotsUnsupported(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, search.Config{})
	s := searchpart.Snapshots{Client: e.c}
	repo := e.prefix + "repo"
	err := s.RegisterFS(ctx, repo, filepath.Join(t.TempDir(), "repo"))
	if !errors.Is(err, backup.ErrUnsupported) || errkind.Of(err) != errkind.Unimplemented {
		t.Fatalf("register fs without path.repo: %v", err)
	}
	if _, err := s.LucidSnapshots(ctx); !errors.Is(err, backup.ErrUnsupported) {
		t.Fatalf("lucid snapshots without the repository: %v", err)
	}
	if err := s.Create(ctx, repo, "snapshot_20260102_030405"); !errors.Is(err, backup.ErrUnsupported) {
		t.Fatalf("create in a missing repository: %v", err)
	}
	if err := s.Restore(ctx, searchpart.LucidRepository, "snapshot_20260102_030405", searchpart.RestoreOptions{}); !errors.Is(err, backup.ErrUnsupported) {
		t.Fatalf("restore from a missing repository: %v", err)
	}
	if err := s.Delete(ctx, repo, "x"); !errors.Is(err, backup.ErrUnsupported) {
		t.Fatalf("delete in a missing repository: %v", err)
	}
	if err := s.RegisterFS(ctx, "bad*repo", "/x"); !errors.Is(err, backup.ErrInvalid) {
		t.Fatalf("bad repository name: %v", err)
	}
}

// With a node whose path.repo holds LUCID_TEST_SEARCH_REPO: register,
// create, list (Lucid's name recognised), restore renamed, delete.
func TestSnapshotsLifecycle(t *testing.T) {
	dir := os.Getenv("LUCID_TEST_SEARCH_REPO")
	if dir == "" {
		// The test script and the harness's own node always set it; a node
		// named by LUCID_TEST_SEARCH_URL alone may have no path.repo.
		if testenv.Required() {
			t.Fatal("LUCID_TEST_SEARCH_REPO not set (a directory under the node's path.repo), and servers are required")
		}
		t.Skip("LUCID_TEST_SEARCH_REPO not set (a directory under the node's path.repo)")
	}
	ctx := context.Background()
	e := newEnv(t, search.Config{})
	name := e.prefix + "lucid-sessions-2026.11"
	want := seed(t, e, name, nil, 50)
	s := searchpart.Snapshots{Client: e.c}
	repo := e.prefix + "repo"
	if err := s.RegisterFS(ctx, repo, filepath.Join(dir, repo)); err != nil {
		t.Fatal(err)
	}
	const snap = "snapshot_20260102_030405"
	if err := s.Create(ctx, repo, snap, name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Delete(context.Background(), repo, snap) })
	list, err := s.List(ctx, repo)
	if err != nil || len(list) != 1 || !list[0].Lucid || list[0].State != "SUCCESS" {
		t.Fatalf("list %+v, %v", list, err)
	}
	if err := s.Restore(ctx, repo, snap, searchpart.RestoreOptions{Indices: []string{name}, RenamePattern: "(.+)", RenameReplacement: "$1-restored"}); err != nil {
		t.Fatal(err)
	}
	diffDocs(t, "snapshot", want, docsOf(t, e.c, name+"-restored"))
	if err := s.Delete(ctx, repo, snap); err != nil {
		t.Fatal(err)
	}
	if list, err := s.List(ctx, repo); err != nil || len(list) != 0 {
		t.Fatalf("after delete: %+v, %v", list, err)
	}
}
