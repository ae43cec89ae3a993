package volumepart_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/HamiGames/lucid-data/backup/volumepart"
	"github.com/HamiGames/lucid-data/volume"
)

// tarEntries lists a tar stream's entries: header fields and content
// SHA-256.
func tarEntries(t *testing.T, b []byte) []string {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(b))
	var out []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		s := sha256.New()
		if _, err := io.Copy(s, tr); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%q %c %o %d/%d %d %d %q %x %v", h.Name, h.Typeflag, h.Mode, h.Uid, h.Gid,
			h.ModTime.UnixNano(), h.Size, h.Linkname, s.Sum(nil)[:8], h.PAXRecords))
	}
}

// A self-contained part's entries are volume.Archive's, header for header
// (hard links, modes, times, owners), between the reserved members.
func TestFullPartEntriesAreArchives(t *testing.T) {
	ctx := context.Background()
	src := t.TempDir()
	makeTree(t, src, 1<<20)
	var a, p bytes.Buffer
	if _, err := volume.Archive(ctx, src, &a); err != nil {
		t.Fatal(err)
	}
	st, err := volumepart.Source{Dir: src}.Stream(ctx, &p)
	if err != nil {
		t.Fatal(err)
	}
	want, got := tarEntries(t, a.Bytes()), tarEntries(t, p.Bytes())
	if len(got) != len(want)+3 || !strings.HasPrefix(got[0], `".lucid-volume-part.deleted"`) ||
		!strings.HasPrefix(got[1], `".lucid-volume-part.index"`) || !strings.HasPrefix(got[len(got)-1], `".lucid-volume-part.sums"`) {
		t.Fatalf("members: %d entries vs Archive's %d\nfirst %s\nlast %s", len(got), len(want), got[0], got[len(got)-1])
	}
	diffTrees(t, want, got[2:len(got)-1])
	if st.Records != int64(len(got)) {
		t.Fatalf("%d records, %d entries", st.Records, len(got))
	}
}
