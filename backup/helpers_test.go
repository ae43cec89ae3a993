package backup_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"filippo.io/age"

	"github.com/HamiGames/lucid-data/backup"
)

// linesSource writes n lines of pseudo-random, compressible text; each line
// is a record. failAfter > 0 makes it fail after that many bytes.
type linesSource struct {
	n         int
	seed      uint64
	failAfter int64
	block     chan struct{} // when set, Stream waits on it after the first line
}

var errSource = fmt.Errorf("source broke")

func (s *linesSource) Describe() backup.SourceInfo {
	return backup.SourceInfo{Kind: "lines", Format: "txt", FormatVersion: 1, Source: "test", SourceVersion: "v0", Meta: map[string]string{"seed": fmt.Sprint(s.seed)}}
}

func (s *linesSource) Stream(ctx context.Context, w io.Writer) (backup.Stats, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	r := rand.New(rand.NewPCG(s.seed, 1))
	var written int64
	words := []string{"lucid", "session", "block", "chunk", "tron", "anchor", "user", "policy"}
	for i := 0; i < s.n; i++ {
		line := fmt.Sprintf("%08d %s %s %x\n", i, words[r.IntN(len(words))], words[r.IntN(len(words))], r.Uint32())
		n, err := bw.WriteString(line)
		written += int64(n)
		if err != nil {
			return backup.Stats{}, err
		}
		if s.failAfter > 0 && written >= s.failAfter {
			return backup.Stats{}, errSource
		}
		if s.block != nil && i == 0 {
			if err := bw.Flush(); err != nil {
				return backup.Stats{}, err
			}
			select {
			case <-s.block:
			case <-ctx.Done():
				return backup.Stats{}, ctx.Err()
			}
		}
	}
	if err := bw.Flush(); err != nil {
		return backup.Stats{}, err
	}
	return backup.Stats{Records: int64(s.n), Counts: map[string]int64{"lines": int64(s.n)}}, nil
}

// linesChecker counts lines.
type linesChecker struct{}

func (linesChecker) Check(ctx context.Context, p backup.PartManifest, r io.Reader) (backup.Stats, error) {
	var n int64
	buf := make([]byte, 64<<10)
	for {
		k, err := r.Read(buf)
		n += int64(bytes.Count(buf[:k], []byte{'\n'}))
		if err == io.EOF {
			return backup.Stats{Records: n, Counts: map[string]int64{"lines": n}}, nil
		}
		if err != nil {
			return backup.Stats{}, err
		}
	}
}

// bufRestorer keeps what it is given.
type bufRestorer struct{ buf bytes.Buffer }

func (b *bufRestorer) Restore(ctx context.Context, p backup.PartManifest, r io.Reader) (backup.Stats, error) {
	return linesChecker{}.Check(ctx, p, io.TeeReader(r, &b.buf))
}

func newIdentity(t testing.TB) *age.X25519Identity {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func checkers() map[string]backup.Checker {
	return map[string]backup.Checker{"lines": linesChecker{}}
}
