//go:build linux && (arm || 386)

package volume

import "golang.org/x/sys/unix"

// sysFstatat is the fstatat system call filling a unix.Stat_t.
const sysFstatat = unix.SYS_FSTATAT64
