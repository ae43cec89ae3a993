package volumepart_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/HamiGames/lucid-data/backup"
	"github.com/HamiGames/lucid-data/backup/volumepart"
	"github.com/HamiGames/lucid-data/errkind"
	"github.com/HamiGames/lucid-data/lucidkeys"
	"github.com/HamiGames/lucid-data/volume"
)

func newManager(t testing.TB, dir string, comp backup.Compression) (*backup.Manager, *age.X25519Identity) {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	m, err := backup.NewLocal(dir, backup.Config{Compression: comp, Recipients: []age.Recipient{id.Recipient()},
		Identities: []age.Identity{id}, Checkers: volumepart.Checkers()})
	if err != nil {
		t.Fatal(err)
	}
	return m, id
}

func TestVolumeRoundTrip(t *testing.T) {
	ctx := context.Background()
	src := t.TempDir()
	makeTree(t, src, 24<<20)
	want := treeManifest(t, src)
	for _, comp := range []backup.Compression{backup.Zstd, backup.Gzip, backup.None} {
		t.Run(string(comp), func(t *testing.T) {
			m, _ := newManager(t, t.TempDir(), comp)
			man, err := m.Backup(ctx, []backup.Part{volumepart.Part("volume-data", src)}, nil)
			if err != nil {
				t.Fatal(err)
			}
			p := man.Parts[0]
			if p.Kind != "volume" || p.Format != "tar" || p.Counts["files"] == 0 || p.Counts["links"] != 2 || p.Counts["symlinks"] != 3 || p.Meta["dir"] != src {
				t.Fatalf("part %+v", p)
			}
			rep, err := m.Verify(ctx, man.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !rep.Parts[0].Parsed || rep.Parts[0].Stats.Records != p.Records {
				t.Fatalf("verify %+v", rep)
			}
			dst := filepath.Join(t.TempDir(), "restored")
			st, err := m.Restore(ctx, man.ID, "volume-data", volumepart.Restorer{Dir: dst})
			if err != nil {
				t.Fatal(err)
			}
			if st.Records != p.Records {
				t.Fatalf("restored %d records of %d", st.Records, p.Records)
			}
			diffTrees(t, want, treeManifest(t, dst))

			// A second restore into the same place is refused, unless asked.
			if _, err := m.Restore(ctx, man.ID, "volume-data", volumepart.Restorer{Dir: dst}); !errors.Is(err, backup.ErrExists) || errkind.Of(err) != errkind.AlreadyExists {
				t.Fatalf("restore over a tree: %v", err)
			}
			if err := os.WriteFile(filepath.Join(dst, "top.txt"), []byte("changed"), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := m.Restore(ctx, man.ID, "volume-data", volumepart.Restorer{Dir: dst, Overwrite: true}); err != nil {
				t.Fatal(err)
			}
			diffTrees(t, want, treeManifest(t, dst))
		})
	}
}

// Restore with no Dir goes back where the part came from.
func TestVolumeRestoreToOrigin(t *testing.T) {
	ctx := context.Background()
	src := filepath.Join(t.TempDir(), "vol")
	makeTree(t, src, 1<<20)
	want := treeManifest(t, src)
	m, _ := newManager(t, t.TempDir(), backup.Zstd)
	man, err := m.Backup(ctx, []backup.Part{volumepart.Part("v", src)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Restore(ctx, man.ID, "v", volumepart.Restorer{}); !errors.Is(err, backup.ErrExists) {
		t.Fatalf("restore over the live volume: %v", err)
	}
	if err := os.RemoveAll(src); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Restore(ctx, man.ID, "v", volumepart.Restorer{}); err != nil {
		t.Fatal(err)
	}
	diffTrees(t, want, treeManifest(t, src))
}

// Interop: the age CLI decrypts each part, zstd -t / gzip -t pass, tar -t
// lists the volume part, and `age -d | zstd -d | tar -x` gives the tree.
func TestVolumeInteropCLI(t *testing.T) {
	for _, tool := range []string{"age", "zstd", "gzip", "tar"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("LUCID_REQUIRE_SERVERS") == "1" {
				t.Fatalf("%s not installed (LUCID_REQUIRE_SERVERS=1)", tool)
			}
			t.Skipf("%s not installed", tool)
		}
	}
	ctx := context.Background()
	src := t.TempDir()
	makeTree(t, src, 4<<20)
	want := treeManifest(t, src)
	for _, tc := range []struct {
		comp         backup.Compression
		test, decomp string
	}{
		{backup.Zstd, "zstd -q -t", "zstd -q -d -c"},
		{backup.Gzip, "gzip -t", "gzip -d -c"},
		{backup.None, "", "cat"},
	} {
		t.Run(string(tc.comp), func(t *testing.T) {
			dir := t.TempDir()
			m, id := newManager(t, dir, tc.comp)
			man, err := m.Backup(ctx, []backup.Part{volumepart.Part("volume-data", src)}, nil)
			if err != nil {
				t.Fatal(err)
			}
			key := filepath.Join(t.TempDir(), "key.txt")
			if err := os.WriteFile(key, []byte(id.String()+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			obj := filepath.Join(dir, man.ID, man.Parts[0].Object)
			plain := filepath.Join(t.TempDir(), "part")
			sh(t, "age -d -i "+key+" -o "+plain+" "+obj)
			if tc.test != "" {
				sh(t, tc.test+" "+plain)
			}
			list := sh(t, tc.decomp+" "+plain+" | tar -t")
			if n := int64(len(strings.Split(strings.TrimSpace(list), "\n"))); n != man.Parts[0].Records {
				t.Fatalf("tar -t lists %d entries, the manifest %d", n, man.Parts[0].Records)
			}
			out := t.TempDir()
			sh(t, "age -d -i "+key+" "+obj+" | "+tc.decomp+" | tar -x -C "+out+" --anchored --exclude='.lucid-volume-part.*'")
			diffTrees(t, want, treeManifest(t, out))
			// The sums member checks the extraction with sha256sum.
			tarFile := filepath.Join(t.TempDir(), "part.tar")
			sh(t, tc.decomp+" "+plain+" > "+tarFile)
			sh(t, "tar -xOf "+tarFile+" .lucid-volume-part.sums | (cd "+out+" && sha256sum --quiet --strict -c)")
		})
	}
}

func sh(t *testing.T, cmd string) string {
	t.Helper()
	out, err := exec.Command("bash", "-o", "pipefail", "-c", cmd).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, out)
	}
	return string(out)
}

// Damaged volume parts are caught by Verify and by Restore.
func TestVolumeCorruption(t *testing.T) {
	ctx := context.Background()
	src := t.TempDir()
	makeTree(t, src, 2<<20)
	for _, tc := range []struct {
		name   string
		damage func(p string)
	}{
		{"flip", func(p string) {
			b, _ := os.ReadFile(p)
			b[len(b)/3] ^= 1
			os.WriteFile(p, b, 0o600)
		}},
		{"flip in the tar padding", func(p string) { // past the end-of-archive marker the tar reader stops at
			b, _ := os.ReadFile(p)
			b[len(b)-20] ^= 1
			os.WriteFile(p, b, 0o600)
		}},
		{"truncate", func(p string) {
			fi, _ := os.Stat(p)
			os.Truncate(p, fi.Size()-1)
		}},
		{"missing", func(p string) { os.Remove(p) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			m, _ := newManager(t, dir, backup.Zstd)
			man, err := m.Backup(ctx, []backup.Part{volumepart.Part("v", src)}, nil)
			if err != nil {
				t.Fatal(err)
			}
			tc.damage(filepath.Join(dir, man.ID, man.Parts[0].Object))
			_, verr := m.Verify(ctx, man.ID)
			_, rerr := m.Restore(ctx, man.ID, "v", volumepart.Restorer{Dir: t.TempDir()})
			for _, err := range []error{verr, rerr} {
				if !errors.Is(err, backup.ErrCorrupt) || errkind.Of(err) != errkind.DataLoss || !strings.Contains(err.Error(), `part "v"`) {
					t.Fatalf("%v", err)
				}
			}
		})
	}
}

// A tar stream that is not what Archive writes fails the parse pass.
func TestCheckerRefusesGarbage(t *testing.T) {
	_, err := volumepart.Checker{}.Check(context.Background(), backup.PartManifest{Name: "v"}, strings.NewReader(strings.Repeat("x", 1024)))
	if err == nil {
		t.Fatal("garbage parsed")
	}
}

// Restore into managed volumes: a new empty one (its metadata file does not
// make it "not empty"), and the original, replaced only when asked.
func TestVolumeRestorerManaged(t *testing.T) {
	ctx := context.Background()
	vols, err := volume.New(volume.Config{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	v, err := vols.Create(ctx, "chunks", lucidkeys.VolumeChunks, 0)
	if err != nil {
		t.Fatal(err)
	}
	makeTree(t, v.Path, 1<<20)
	want := withoutMeta(treeManifest(t, v.Path))
	m, _ := newManager(t, t.TempDir(), backup.Zstd)
	man, err := m.Backup(ctx, []backup.Part{volumepart.Part("chunks", v.Path)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	w, err := vols.Create(ctx, "scratch", lucidkeys.VolumeChunks, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Restore(ctx, man.ID, "chunks", volumepart.VolumeRestorer{Volumes: vols, Name: "scratch"}); err != nil {
		t.Fatal(err)
	}
	diffTrees(t, want, withoutMeta(treeManifest(t, w.Path)))
	// Into a plain Restorer over the new volume's directory: refused, it
	// holds data now.
	if _, err := m.Restore(ctx, man.ID, "chunks", volumepart.Restorer{Dir: w.Path}); !errors.Is(err, backup.ErrExists) {
		t.Fatalf("restore over a full volume dir: %v", err)
	}
	// The original: refused, then replaced when asked; a file added since
	// the backup is gone and the volume still opens.
	os.WriteFile(filepath.Join(v.Path, "new-since"), []byte("x"), 0o644)
	if _, err := m.Restore(ctx, man.ID, "chunks", volumepart.VolumeRestorer{Volumes: vols, Name: "chunks"}); !errors.Is(err, backup.ErrExists) {
		t.Fatalf("restore over the live volume: %v", err)
	}
	if _, err := m.Restore(ctx, man.ID, "chunks", volumepart.VolumeRestorer{Volumes: vols, Name: "chunks", Overwrite: true}); err != nil {
		t.Fatal(err)
	}
	diffTrees(t, want, withoutMeta(treeManifest(t, v.Path)))
	if _, err := vols.Get(ctx, "chunks"); err != nil {
		t.Fatalf("volume after restore: %v", err)
	}
}

// withoutMeta drops the volume package's own files from a tree manifest.
func withoutMeta(lines []string) []string {
	var out []string
	for _, l := range lines {
		if !strings.HasPrefix(l, ".lucid-volume") {
			out = append(out, l)
		}
	}
	return out
}
