//go:build linux

package volume

import (
	"context"
	"log/slog"
	"os/exec"
)

func defragment(ctx context.Context, dir string, log *slog.Logger) error {
	mi, err := findMount(dir)
	if err != nil {
		return wrapErr(ErrUnsupported, err, "defragment %s: cannot tell its filesystem", dir)
	}
	if mi.fsType != "ext4" {
		return newErr(ErrUnsupported, "defragment %s: filesystem is %s; only ext4 (with e4defrag) is supported", dir, mi.fsType)
	}
	tool, err := exec.LookPath("e4defrag")
	if err != nil {
		return wrapErr(ErrUnsupported, err, "defragment %s: e4defrag is not installed (Debian: e2fsprogs)", dir)
	}
	out, err := exec.CommandContext(ctx, tool, dir).CombinedOutput()
	if err != nil {
		if ctx.Err() != nil {
			return ioErr(ctx.Err(), "defragment %s", dir)
		}
		return ioErr(err, "defragment %s: e4defrag: %s", dir, lastLine(out))
	}
	log.Info("volume defragmented", "path", dir, "e4defrag", lastLine(out))
	return nil
}

// lastLine returns the last non-empty line of command output, trimmed.
func lastLine(b []byte) string {
	end := len(b)
	for end > 0 && (b[end-1] == '\n' || b[end-1] == '\r' || b[end-1] == ' ') {
		end--
	}
	start := end
	for start > 0 && b[start-1] != '\n' {
		start--
	}
	s := string(b[start:end])
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}
