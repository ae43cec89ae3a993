//go:build linux

package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// LoopFS makes a small ext4 filesystem of sizeMiB in a file, loop-mounts it
// and returns the mount point; it is unmounted when t ends. mkfsArgs go to
// mkfs.ext4 (e.g. "-O", "quota,project"). Without root or the tools it
// skips, or fails under LUCID_REQUIRE_SERVERS=1, like a missing server.
func LoopFS(t testing.TB, sizeMiB int, mkfsArgs ...string) string {
	t.Helper()
	const what = "loop-mounted ext4 filesystem"
	if os.Geteuid() != 0 {
		unavailable(t, what, fmt.Errorf("not root"))
	}
	mkfs, err := exec.LookPath("mkfs.ext4")
	if err != nil {
		unavailable(t, what, fmt.Errorf("mkfs.ext4 not installed: %w", err))
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
	err = f.Truncate(int64(sizeMiB) << 20)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"-q", "-F"}, mkfsArgs...)
	if out, err := exec.Command(mkfs, append(args, img)...).CombinedOutput(); err != nil {
		unavailable(t, what, fmt.Errorf("mkfs.ext4: %v: %s", err, out))
	}
	if out, err := exec.Command("mount", "-o", "loop", img, mnt).CombinedOutput(); err != nil {
		unavailable(t, what, fmt.Errorf("mount -o loop: %v: %s", err, out))
	}
	t.Cleanup(func() {
		var err error
		for range 20 {
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
