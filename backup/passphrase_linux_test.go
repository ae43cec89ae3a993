//go:build linux && !lucidfuzz

package backup_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/HamiGames/lucid-data/backup"
	"github.com/HamiGames/lucid-data/internal/testenv"
)

// agePTY runs the age CLI with a pseudo-terminal as its controlling
// terminal, typing pass at every passphrase prompt: age 1.1.1 reads a
// passphrase from the terminal only, never from stdin or the environment.
func agePTY(t *testing.T, ctx context.Context, pass string, args ...string) {
	t.Helper()
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open /dev/ptmx: %v", err)
	}
	defer ptmx.Close()
	fd := int(ptmx.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("ptsname: %v", err)
	}
	pts, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open pts: %v", err)
	}
	cmd := exec.CommandContext(ctx, "age", args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = pts, pts, pts
	// A session of its own with the pty as controlling terminal (fd 0 in
	// the child), so that age's open("/dev/tty") reaches it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		pts.Close()
		t.Fatalf("start age: %v", err)
	}
	pts.Close()

	var mu sync.Mutex
	var out bytes.Buffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		answered := 0
		for {
			k, err := ptmx.Read(buf)
			mu.Lock()
			out.Write(buf[:k])
			prompts := strings.Count(strings.ToLower(out.String()), "passphrase")
			mu.Unlock()
			// Typed as soon as the prompt shows: the line discipline keeps
			// it until age reads the terminal (it may echo it, if age has
			// not turned echo off yet).
			for ; answered < prompts; answered++ {
				if _, err := io.WriteString(ptmx, pass+"\r"); err != nil {
					return
				}
			}
			if err != nil {
				return // EIO once age exits and the last pts closes
			}
		}
	}()
	werr := cmd.Wait()
	// The reader ends with EIO when the child's side closes; closing the
	// master also unblocks it if a grandchild held the pts open.
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		ptmx.Close()
		<-done
	}
	mu.Lock()
	defer mu.Unlock()
	if werr != nil {
		t.Fatalf("age %v: %v\nterminal: %q", args, werr, out.String())
	}
}

// Passphrase interop with the age CLI, both ways: a part the SDK encrypted
// with a passphrase decrypts with `age -d` typed at a terminal, and a part
// re-encrypted by `age -p` is verified and restored by the SDK.
func TestPassphraseInteropCLI(t *testing.T) {
	for _, tool := range []string{"age", "zstd"} {
		if _, err := exec.LookPath(tool); err != nil {
			if !testenv.Required() {
				t.Skipf("%s not installed", tool)
			}
			t.Fatalf("%s not installed and %s is set", tool, testenv.RequireEnv)
		}
	}
	ctx := testenv.Context(t)
	const pass = "correct horse battery staple 42"
	dir := t.TempDir()
	m, err := backup.NewLocal(filepath.Join(dir, "b"), backup.Config{Passphrase: pass, ScryptWorkFactor: 14, PlainSHA256: true, Checkers: checkers()})
	if err != nil {
		t.Fatal(err)
	}
	src := &linesSource{n: 30000, seed: 11}
	var want bytes.Buffer
	if _, err := src.Stream(ctx, &want); err != nil {
		t.Fatal(err)
	}
	man, err := m.Backup(ctx, []backup.Part{{Name: "lines", Source: src}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := man.Parts[0]
	if p.Recipients != "scrypt" {
		t.Fatalf("recipients %q", p.Recipients)
	}

	// SDK → CLI: age -d at a terminal, then zstd -d.
	obj := filepath.Join(dir, "b", man.ID, p.Object)
	zst := filepath.Join(dir, "cli.zst")
	agePTY(t, ctx, pass, "-d", "-o", zst, obj)
	plain, err := exec.CommandContext(ctx, "zstd", "-dc", zst).Output()
	if err != nil {
		t.Fatalf("zstd -d: %v", err)
	}
	if !bytes.Equal(plain, want.Bytes()) {
		t.Fatalf("age -d | zstd -d: %d bytes, want %d", len(plain), want.Len())
	}
	if sum := sha256.Sum256(plain); hex.EncodeToString(sum[:]) != p.Plain.SHA256 {
		t.Fatal("plaintext SHA-256 differs from the manifest")
	}

	// CLI → SDK: age -p at a terminal (age's own scrypt work factor),
	// stored as a backup of its own, which the SDK verifies and restores.
	reenc := filepath.Join(dir, "cli.zst.age")
	agePTY(t, ctx, pass, "-p", "-o", reenc, zst)
	cliBytes, err := os.ReadFile(reenc)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(cliBytes, mustRead(t, obj)) {
		t.Fatal("age -p wrote the same bytes as the SDK")
	}
	sum := sha256.Sum256(cliBytes)
	cman := *man
	cman.ID = man.ID[:len(man.ID)-8] + "0c110c11"
	cman.Parts = []backup.PartManifest{p}
	cman.Parts[0].Stored = backup.Digest{Size: int64(len(cliBytes)), SHA256: hex.EncodeToString(sum[:])}
	b, err := backup.MarshalManifest(&cman)
	if err != nil {
		t.Fatal(err)
	}
	// The part first, the manifest last, as Backup writes them.
	putObject(t, m.Sink(), cman.ID+"/"+p.Object, cliBytes)
	putObject(t, m.Sink(), cman.ID+"/"+backup.ManifestName, b)
	if _, err := m.Verify(ctx, cman.ID); err != nil {
		t.Fatalf("SDK verify of the CLI-encrypted part: %v", err)
	}
	var got bufRestorer
	if _, err := m.Restore(ctx, cman.ID, "lines", &got); err != nil || !bytes.Equal(got.buf.Bytes(), want.Bytes()) {
		t.Fatalf("SDK restore of the CLI-encrypted part: %v (%d bytes)", err, got.buf.Len())
	}
	// And with the wrong passphrase the SDK says so (a key error, not
	// corruption); on the SDK's part, whose scrypt work factor is low
	// (age's 18 costs seconds under -race).
	wrong, err := backup.New(m.Sink(), backup.Config{Passphrase: pass + "!", Checkers: checkers()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wrong.Verify(ctx, man.ID); !errors.Is(err, backup.ErrKey) {
		t.Fatalf("wrong passphrase: %v", err)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func putObject(t *testing.T, sink backup.Sink, name string, data []byte) {
	t.Helper()
	w, err := sink.Create(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
}
