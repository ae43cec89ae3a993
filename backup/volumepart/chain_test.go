package volumepart_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/HamiGames/lucid-data/backup"
	"github.com/HamiGames/lucid-data/backup/volumepart"
	"github.com/HamiGames/lucid-data/errkind"
	"github.com/HamiGames/lucid-data/lucidkeys"
	"github.com/HamiGames/lucid-data/volume"
)

// newChainManager is newManager with a ChainChecker, so Verify checks
// whole chains.
func newChainManager(t testing.TB, dir string) (*backup.Manager, *age.X25519Identity) {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	cc := &volumepart.ChainChecker{}
	m, err := backup.NewLocal(dir, backup.Config{Recipients: []age.Recipient{id.Recipient()},
		Identities: []age.Identity{id}, Checkers: map[string]backup.Checker{volumepart.Kind: cc}})
	if err != nil {
		t.Fatal(err)
	}
	cc.Manager = m
	return m, id
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func write(t testing.TB, p, s string, mode os.FileMode) {
	t.Helper()
	must(t, os.MkdirAll(filepath.Dir(p), 0o755))
	must(t, os.WriteFile(p, []byte(s), mode))
}

// chainSteps are the changes between the backups of TestIncrementalChain:
// adds, edits, deletes, renames, mode changes, symlinks, type changes and
// hard links. Step 3 edits a file in place and sets its mtime back, which
// only its ctime tells.
var chainSteps = []func(t *testing.T, src string){
	1: func(t *testing.T, src string) {
		write(t, filepath.Join(src, "new", "dir", "file.txt"), "added", 0o644)
		write(t, filepath.Join(src, "new", "file2"), "added too", 0o600)
		write(t, filepath.Join(src, "a", "b", "c", "deep.txt"), "DEEP", 0o640) // same size
		for _, n := range []string{"f000", "f001", "f002", "f003", "f009"} {
			must(t, os.Remove(filepath.Join(src, "many", n)))
		}
		must(t, os.Rename(filepath.Join(src, "many", "f100"), filepath.Join(src, "many", "g100")))
		must(t, os.Rename(filepath.Join(src, "a", "b", "c"), filepath.Join(src, "a", "b", "c2")))
		must(t, os.Chmod(filepath.Join(src, "one"), 0o640))
		must(t, os.Chmod(filepath.Join(src, "empty"), 0o755))
		must(t, os.Symlink("../top.txt", filepath.Join(src, "new", "link")))
		must(t, os.Remove(filepath.Join(src, "link-to-deep")))
		must(t, os.Symlink("one", filepath.Join(src, "link-to-deep")))
	},
	2: func(t *testing.T, src string) {
		must(t, os.Remove(filepath.Join(src, "zero")))
		write(t, filepath.Join(src, "zero", "inner"), "file became a directory", 0o644)
		must(t, os.Remove(filepath.Join(src, "dangling")))
		write(t, filepath.Join(src, "dangling", "x"), "symlink became a directory", 0o644)
		must(t, os.Link(filepath.Join(src, "many", "f200"), filepath.Join(src, "many", "hl")))
		must(t, os.Remove(filepath.Join(src, "hardlink.bin")))
		must(t, os.RemoveAll(filepath.Join(src, "new", "dir")))
		must(t, os.Rename(filepath.Join(src, "many", "f150"), filepath.Join(src, "a", "moved-here")))
	},
	3: func(t *testing.T, src string) {
		must(t, os.RemoveAll(filepath.Join(src, "empty")))
		write(t, filepath.Join(src, "empty"), "directory became a file", 0o644)
		must(t, os.Remove(filepath.Join(src, "a", "b", "up")))
		write(t, filepath.Join(src, "a", "b", "up", "f"), "symlink became a directory", 0o644)
		p := filepath.Join(src, "a", "large.bin")
		fi, err := os.Stat(p)
		must(t, err)
		f, err := os.OpenFile(p, os.O_WRONLY, 0)
		must(t, err)
		_, err = f.WriteAt([]byte(strings.Repeat("edited in place, mtime kept ", 100)), 4096)
		must(t, err)
		must(t, f.Close())
		must(t, os.Chtimes(p, fi.ModTime(), fi.ModTime()))
		// Past the racy window: what changed is told by metadata alone.
		time.Sleep(2100 * time.Millisecond)
	},
	4: func(t *testing.T, src string) {
		must(t, os.Chmod(filepath.Join(src, "a", "b", "script.sh"), 0o700))
	},
}

// A chain of five backups (one self-contained, four incremental) of a tree
// that changes between them: restoring each point gives exactly the tree
// at that point; each incremental stores what changed; Verify and
// VerifyChain pass.
func TestIncrementalChain(t *testing.T) {
	ctx := context.Background()
	src := filepath.Join(t.TempDir(), "vol")
	makeTree(t, src, 1<<20)
	time.Sleep(2100 * time.Millisecond) // past the racy window, so that the incrementals store only what changed
	m, _ := newChainManager(t, t.TempDir())
	var ids []string
	var want [][]string
	var mans []*backup.Manifest
	for i := 0; i < 5; i++ {
		if i > 0 {
			chainSteps[i](t, src)
		}
		part, err := volumepart.Next(ctx, m, "v", src, 0)
		must(t, err)
		man, err := m.Backup(ctx, []backup.Part{part}, nil)
		if err != nil {
			t.Fatalf("backup %d: %v", i, err)
		}
		p := man.Parts[0]
		if i == 0 && p.Base != "" || i > 0 && p.Base != ids[i-1] {
			t.Fatalf("backup %d: base %q", i, p.Base)
		}
		t.Logf("backup %d: %d records %v, %d bytes stored", i, p.Records, p.Counts, p.Stored.Size)
		ids, mans = append(ids, man.ID), append(mans, man)
		want = append(want, treeManifest(t, src))
	}
	// Step 3 stored the large file edited behind its mtime; step 4 only
	// the file whose mode changed and its directory.
	if c := mans[3].Parts[0].Counts; c["bytes"] < 1<<20 {
		t.Fatalf("backup 3 missed the file edited in place: %v", c)
	}
	if c := mans[4].Parts[0].Counts; c["files"] != 1 || c["dirs"] != 1 || c["symlinks"] != 0 || c["links"] != 0 || c["deleted"] != 0 {
		t.Fatalf("backup 4 stored more than the chmod: %v", c)
	}
	if c := mans[1].Parts[0].Counts; c["deleted"] < 7 || c["files"] > 20 || c["bytes"] > 1000 {
		t.Fatalf("backup 1 deletions: %v", c)
	}
	if mans[4].Parts[0].Stored.Size*20 > mans[0].Parts[0].Stored.Size {
		t.Fatalf("backup 4 stores %d bytes, the full one %d", mans[4].Parts[0].Stored.Size, mans[0].Parts[0].Stored.Size)
	}
	for i, id := range ids {
		dst := filepath.Join(t.TempDir(), "restored")
		st, err := volumepart.RestoreChain(ctx, m, id, "v", volumepart.Restorer{Dir: dst})
		if err != nil {
			t.Fatalf("restore point %d: %v", i, err)
		}
		if st.Records == 0 {
			t.Fatalf("restore point %d: %+v", i, st)
		}
		diffTrees(t, want[i], treeManifest(t, dst))
	}
	// Restoring an earlier point over a later one, when asked.
	dst := filepath.Join(t.TempDir(), "restored")
	_, err := volumepart.RestoreChain(ctx, m, ids[4], "v", volumepart.Restorer{Dir: dst})
	must(t, err)
	if _, err := volumepart.RestoreChain(ctx, m, ids[2], "v", volumepart.Restorer{Dir: dst}); !errors.Is(err, backup.ErrExists) {
		t.Fatalf("restore over a tree: %v", err)
	}

	// The whole chain verifies, with Verify and with VerifyChain.
	links, err := volumepart.VerifyChain(ctx, m, ids[4], "v")
	must(t, err)
	if len(links) != 5 || links[0].ID != ids[0] || links[4].ID != ids[4] {
		t.Fatalf("chain %+v", links)
	}
	if _, err := m.Verify(ctx, ids[4]); err != nil {
		t.Fatal(err)
	}
	// An incremental part is not restored on its own.
	if _, err := m.Restore(ctx, ids[3], "v", volumepart.Restorer{Dir: t.TempDir()}); !errors.Is(err, backup.ErrInvalid) {
		t.Fatalf("restore of one incremental part: %v", err)
	}
	// Next bounds chains.
	part, err := volumepart.Next(ctx, m, "v", src, 5)
	must(t, err)
	if part.Source.Describe().Base != "" {
		t.Fatalf("Next with maxChain 5 after 5 parts: base %q", part.Source.Describe().Base)
	}
	part, err = volumepart.Next(ctx, m, "v", src, 6)
	must(t, err)
	if part.Source.Describe().Base != ids[4] {
		t.Fatalf("Next: base %q", part.Source.Describe().Base)
	}
	// Another directory under the same part name starts its own chain.
	part, err = volumepart.Next(ctx, m, "v", t.TempDir(), 0)
	must(t, err)
	if part.Source.Describe().Base != "" {
		t.Fatalf("Next of another directory: base %q", part.Source.Describe().Base)
	}
}

// The recipe of the package doc: each part of the chain, oldest first,
// decrypted, its deletion list applied with xargs -0 rm -rf and extracted
// with tar, gives the tree of each point; sha256sum -c passes.
func TestIncrementalChainCLI(t *testing.T) {
	for _, tool := range []string{"age", "zstd", "tar", "xargs", "sha256sum"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("LUCID_REQUIRE_SERVERS") == "1" {
				t.Fatalf("%s not installed (LUCID_REQUIRE_SERVERS=1)", tool)
			}
			t.Skipf("%s not installed", tool)
		}
	}
	ctx := context.Background()
	src := filepath.Join(t.TempDir(), "vol")
	makeTree(t, src, 64<<10)
	write(t, filepath.Join(src, "a", ".lucid-volume-part.mine"), "a user's file of a reserved name, below the top", 0o644)
	dir := t.TempDir()
	m, id := newChainManager(t, dir)
	key := filepath.Join(t.TempDir(), "key.txt")
	must(t, os.WriteFile(key, []byte(id.String()+"\n"), 0o600))
	out := t.TempDir()
	for i := 0; i < 5; i++ {
		if i > 0 {
			chainSteps[i](t, src)
		}
		part, err := volumepart.Next(ctx, m, "v", src, 0)
		must(t, err)
		man, err := m.Backup(ctx, []backup.Part{part}, nil)
		must(t, err)
		plain := filepath.Join(t.TempDir(), "part.tar")
		sh(t, "age -d -i "+key+" "+filepath.Join(dir, man.ID, man.Parts[0].Object)+" | zstd -q -d > "+plain)
		sh(t, "tar -xOf "+plain+" .lucid-volume-part.deleted | (cd "+out+" && xargs -0 -r rm -rf --)")
		sh(t, "tar -xf "+plain+" -C "+out+" --anchored --exclude='.lucid-volume-part.*'")
		sh(t, "tar -xOf "+plain+" .lucid-volume-part.sums | (cd "+out+" && sha256sum --quiet --strict -c)")
		diffTrees(t, treeManifest(t, src), treeManifest(t, out))
	}
}

// A chain with a missing or damaged part fails Verify, VerifyChain and
// RestoreChain, naming the backup the bad part belongs to.
func TestIncrementalChainDamage(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, dir string, man *backup.Manifest)
		verify bool // Verify of the last backup catches it (a missing object is seen by the core's chain check; a flipped byte by the ChainChecker)
	}{
		{"flipped byte", func(t *testing.T, dir string, man *backup.Manifest) {
			p := filepath.Join(dir, man.ID, man.Parts[0].Object)
			b, err := os.ReadFile(p)
			must(t, err)
			b[len(b)/2] ^= 1
			must(t, os.WriteFile(p, b, 0o600))
		}, true},
		{"missing object", func(t *testing.T, dir string, man *backup.Manifest) {
			must(t, os.Remove(filepath.Join(dir, man.ID, man.Parts[0].Object)))
		}, true},
		{"truncated", func(t *testing.T, dir string, man *backup.Manifest) {
			p := filepath.Join(dir, man.ID, man.Parts[0].Object)
			fi, err := os.Stat(p)
			must(t, err)
			must(t, os.Truncate(p, fi.Size()-100))
		}, true},
		{"missing manifest", func(t *testing.T, dir string, man *backup.Manifest) {
			must(t, os.Remove(filepath.Join(dir, man.ID, backup.ManifestName)))
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := filepath.Join(t.TempDir(), "vol")
			makeTree(t, src, 256<<10)
			dir := t.TempDir()
			m, _ := newChainManager(t, dir)
			var mans []*backup.Manifest
			for i := 0; i < 4; i++ {
				if i > 0 {
					write(t, filepath.Join(src, "step", strings.Repeat("x", i)), strings.Repeat("content ", 5000*i), 0o644)
				}
				part, err := volumepart.Next(ctx, m, "v", src, 0)
				must(t, err)
				man, err := m.Backup(ctx, []backup.Part{part}, nil)
				must(t, err)
				mans = append(mans, man)
			}
			bad, last := mans[1], mans[3]
			if _, err := volumepart.VerifyChain(ctx, m, last.ID, "v"); err != nil {
				t.Fatalf("intact chain: %v", err)
			}
			tc.damage(t, dir, bad)
			check := func(what string, err error) {
				t.Helper()
				if !errors.Is(err, backup.ErrCorrupt) || errkind.Of(err) != errkind.DataLoss || !strings.Contains(err.Error(), bad.ID) {
					t.Fatalf("%s: %v (want ErrCorrupt naming %s)", what, err, bad.ID)
				}
			}
			_, err := volumepart.VerifyChain(ctx, m, last.ID, "v")
			check("VerifyChain", err)
			if tc.verify {
				_, err = m.Verify(ctx, last.ID)
				check("Verify", err)
			}
			_, err = volumepart.RestoreChain(ctx, m, last.ID, "v", volumepart.Restorer{Dir: filepath.Join(t.TempDir(), "r")})
			check("RestoreChain", err)
			// Next starts a new chain when the last one is broken.
			if part, err := volumepart.Next(ctx, m, "v", src, 0); err != nil {
				t.Fatal(err)
			} else if base := part.Source.Describe().Base; tc.name != "flipped byte" && base != "" {
				t.Fatalf("Next over a broken chain: base %s", base)
			}
			// The part before the damage still verifies and restores.
			if _, err := volumepart.VerifyChain(ctx, m, mans[0].ID, "v"); err != nil {
				t.Fatalf("the first part: %v", err)
			}
		})
	}
}

// A chain restores into a managed volume: the first part swapped in by
// RestoreFrom, the others applied in place; the volume's metadata stays.
func TestIncrementalChainManagedVolume(t *testing.T) {
	ctx := context.Background()
	vols, err := volume.New(volume.Config{Root: t.TempDir()})
	must(t, err)
	v, err := vols.Create(ctx, "chunks", lucidkeys.VolumeChunks, 0)
	must(t, err)
	makeTree(t, v.Path, 64<<10)
	m, _ := newChainManager(t, t.TempDir())
	var last *backup.Manifest
	for i := 0; i < 3; i++ {
		if i > 0 {
			chainSteps[i](t, v.Path)
		}
		part, err := volumepart.Next(ctx, m, "chunks", v.Path, 0)
		must(t, err)
		last, err = m.Backup(ctx, []backup.Part{part}, nil)
		must(t, err)
	}
	want := withoutMeta(treeManifest(t, v.Path))
	w, err := vols.Create(ctx, "scratch", lucidkeys.VolumeChunks, 0)
	must(t, err)
	if _, err := volumepart.RestoreChain(ctx, m, last.ID, "chunks", volumepart.VolumeRestorer{Volumes: vols, Name: "scratch"}); err != nil {
		t.Fatal(err)
	}
	diffTrees(t, want, withoutMeta(treeManifest(t, w.Path)))
	if _, err := vols.Get(ctx, "scratch"); err != nil {
		t.Fatalf("volume after restore: %v", err)
	}
	// One incremental part alone is refused.
	if _, err := m.Restore(ctx, last.ID, "chunks", volumepart.VolumeRestorer{Volumes: vols, Name: "scratch", Overwrite: true}); !errors.Is(err, backup.ErrInvalid) {
		t.Fatalf("restore of one incremental part: %v", err)
	}
}
