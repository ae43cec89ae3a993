//go:build linux

package volume_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/HamiGames/lucid-data/volume"
)

// ExampleWalk lists a volume's tree and sums its regular files, each
// opened relative to its directory without following a symlink.
func ExampleWalk() {
	dir, _ := os.MkdirTemp("", "lucid-walk-")
	defer os.RemoveAll(dir)
	_ = os.MkdirAll(filepath.Join(dir, "db", "wal"), 0o755)
	_ = os.WriteFile(filepath.Join(dir, "db", "data.wt"), []byte("rows"), 0o644)
	_ = os.Link(filepath.Join(dir, "db", "data.wt"), filepath.Join(dir, "db", "wal", "snap"))
	_ = os.Symlink("db/data.wt", filepath.Join(dir, "current"))
	_ = os.WriteFile(filepath.Join(dir, ".lucid-volume.json"), []byte("{}"), 0o600) // the package's own

	opts := &volume.WalkOptions{SkipReserved: true}
	err := volume.Walk(context.Background(), dir, opts, func(e *volume.WalkEntry) error {
		switch {
		case e.IsDir():
			fmt.Printf("%s/\n", e.Path)
		case e.Target != "":
			fmt.Printf("%s -> %s\n", e.Path, e.Target)
		case e.Link != "":
			fmt.Printf("%s: same file as %s\n", e.Path, e.Link)
		case e.IsRegular():
			f, err := e.Open()
			if err != nil {
				return err
			}
			defer f.Close()
			h := sha256.New()
			if _, err := io.Copy(h, f); err != nil {
				return err
			}
			fmt.Printf("%s: %d bytes, sha256 %x…\n", e.Path, e.Size, h.Sum(nil)[:4])
		}
		return nil
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// current -> db/data.wt
	// db/
	// db/data.wt: 4 bytes, sha256 bc51e9e6…
	// db/wal/
	// db/wal/snap: same file as db/data.wt
}
