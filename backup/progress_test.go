package backup_test

import (
	"context"
	"io"
	"sync"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/HamiGames/lucid-data/backup"
)

// slowSource writes n chunks of size bytes, pausing between them, so a
// progress interval shorter than the pause reports between chunks.
type slowSource struct {
	n, size int
	pause   time.Duration
}

func (s slowSource) Describe() backup.SourceInfo {
	return backup.SourceInfo{Kind: "test", Format: "bin"}
}

func (s slowSource) Stream(ctx context.Context, w io.Writer) (backup.Stats, error) {
	buf := make([]byte, s.size)
	for i := range s.n {
		for j := range buf {
			buf[j] = byte(i*7 + j)
		}
		if _, err := w.Write(buf); err != nil {
			return backup.Stats{}, err
		}
		time.Sleep(s.pause)
	}
	return backup.Stats{Records: int64(s.n)}, nil
}

// TestProgress: with Parallel parts, each part's reports grow, come at
// most every ProgressInterval while it streams, and end with one Done
// report holding exactly the sizes the manifest records.
func TestProgress(t *testing.T) {
	id, _ := age.GenerateX25519Identity()
	m, err := backup.NewLocal(t.TempDir(), backup.Config{Recipients: []age.Recipient{id.Recipient()}, Identities: []age.Identity{id}})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	got := map[string][]backup.Progress{}
	src := slowSource{n: 8, size: 256 << 10, pause: 30 * time.Millisecond}
	man, err := m.Backup(context.Background(), []backup.Part{{Name: "a", Source: src}, {Name: "b", Source: src}},
		&backup.BackupOptions{Parallel: 2, ProgressInterval: 10 * time.Millisecond, Progress: func(p backup.Progress) {
			mu.Lock()
			defer mu.Unlock()
			got[p.Part] = append(got[p.Part], p)
		}})
	if err != nil {
		t.Fatal(err)
	}
	for _, pm := range man.Parts {
		ps := got[pm.Name]
		if len(ps) < 3 {
			t.Fatalf("part %s: %d reports, want a few while streaming and one at the end: %+v", pm.Name, len(ps), ps)
		}
		for i, p := range ps {
			if p.Backup != man.ID || (i > 0 && (p.PlainBytes < ps[i-1].PlainBytes || p.StoredBytes < ps[i-1].StoredBytes)) {
				t.Fatalf("part %s report %d: %+v after %+v", pm.Name, i, p, ps[max(i-1, 0)])
			}
			if p.Done != (i == len(ps)-1) {
				t.Fatalf("part %s: Done on report %d of %d", pm.Name, i, len(ps))
			}
		}
		last := ps[len(ps)-1]
		if last.PlainBytes != pm.Plain.Size || last.StoredBytes != pm.Stored.Size {
			t.Fatalf("part %s: last report %+v, manifest plain %d stored %d", pm.Name, last, pm.Plain.Size, pm.Stored.Size)
		}
	}
}
