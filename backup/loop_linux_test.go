//go:build linux

package backup_test

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"golang.org/x/sys/unix"

	"github.com/HamiGames/lucid-data/backup"
	"github.com/HamiGames/lucid-data/errkind"
)

// loopFS makes a small ext4 filesystem in a file and loop-mounts it (as
// volume's tests do); unmounted in t.Cleanup. Without root or the tools
// it skips, unless LUCID_REQUIRE_SERVERS=1.
func loopFS(t *testing.T, sizeMiB int) string {
	t.Helper()
	unavailable := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("LUCID_REQUIRE_SERVERS") == "1" {
			t.Fatalf("loop-mounted filesystem needed (LUCID_REQUIRE_SERVERS=1): "+format, args...)
		}
		t.Skipf("no loop-mounted filesystem: "+format, args...)
	}
	if os.Geteuid() != 0 {
		unavailable("not root")
	}
	mkfs, err := exec.LookPath("mkfs.ext4")
	if err != nil {
		unavailable("mkfs.ext4 not installed: %v", err)
	}
	dir := t.TempDir()
	img, mnt := filepath.Join(dir, "fs.img"), filepath.Join(dir, "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(img)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(int64(sizeMiB) << 20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if out, err := exec.Command(mkfs, "-q", "-F", img).CombinedOutput(); err != nil {
		unavailable("mkfs.ext4: %v: %s", err, out)
	}
	if out, err := exec.Command("mount", "-o", "loop", img, mnt).CombinedOutput(); err != nil {
		unavailable("mount -o loop: %v: %s", err, out)
	}
	t.Cleanup(func() {
		var err error
		for i := 0; i < 20; i++ {
			if err = unix.Unmount(mnt, 0); err == nil || err == unix.EINVAL {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		_ = unix.Unmount(mnt, unix.MNT_DETACH)
		t.Errorf("unmount %s: %v", mnt, err)
	})
	return mnt
}

// randSource writes size incompressible bytes.
type randSource struct{ size int64 }

func (r randSource) Describe() backup.SourceInfo {
	return backup.SourceInfo{Kind: "random", Format: "bin"}
}
func (r randSource) Stream(ctx context.Context, w io.Writer) (backup.Stats, error) {
	_, err := io.CopyN(w, rand.Reader, r.size)
	return backup.Stats{Records: 1}, err
}

// A full disk: a clear error of the ResourceExhausted kind naming the part,
// no manifest, no partial file, and the part written before it removed.
func TestFullLocalDisk(t *testing.T) {
	mnt := loopFS(t, 16)
	dir := filepath.Join(mnt, "backups")
	id := newIdentity(t)
	m, err := backup.NewLocal(dir, backup.Config{Recipients: []age.Recipient{id.Recipient()}, Identities: []age.Identity{id}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, err = m.Backup(ctx, []backup.Part{
		{Name: "fits", Source: randSource{size: 4 << 20}},
		{Name: "too-big", Source: randSource{size: 64 << 20}},
	}, nil)
	if !errors.Is(err, backup.ErrNoSpace) || errkind.Of(err) != errkind.ResourceExhausted || !errors.Is(err, unix.ENOSPC) {
		t.Fatalf("full disk: %v", err)
	}
	if !strings.Contains(err.Error(), `part "too-big"`) || !strings.Contains(err.Error(), "no space left") {
		t.Fatalf("error does not say what and where: %v", err)
	}
	t.Logf("full disk: %v", err)
	assertEmpty(t, m, dir)
	var st unix.Statfs_t
	if err := unix.Statfs(mnt, &st); err != nil {
		t.Fatal(err)
	}
	if free := int64(st.Bavail) * st.Bsize; free < 10<<20 {
		t.Fatalf("only %d bytes free after the failed backup: partial files left", free)
	}
	// The disk works again for a backup that fits.
	man, err := m.Backup(ctx, []backup.Part{{Name: "fits", Source: randSource{size: 4 << 20}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Verify(ctx, man.ID); err != nil {
		t.Fatal(err)
	}
}
