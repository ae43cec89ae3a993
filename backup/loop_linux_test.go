//go:build linux && !lucidfuzz

package backup_test

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	"golang.org/x/sys/unix"

	"github.com/HamiGames/lucid-data/backup"
	"github.com/HamiGames/lucid-data/errkind"
	"github.com/HamiGames/lucid-data/internal/testenv"
)

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
	mnt := testenv.LoopFS(t, 16)
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
	if free := int64(st.Bavail) * int64(st.Bsize); free < 10<<20 {
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
