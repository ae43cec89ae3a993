//go:build linux && (amd64 || arm64 || riscv64 || arm || 386)

package volume

import (
	"encoding/binary"
	"os"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Stats are made in batches of statBatch entries. Between batches the walk
// checks ctx and decides how to make the next batch's fstatat calls:
//
//   - With a warm cache fstatat never sleeps and costs ~2-3 µs, of which a
//     blocking system call (syscall.Syscall: runtime entersyscall and
//     exitsyscall, and sysmon handing the P to another thread when a call
//     looks long) adds ~20 % more CPU and thousands of context switches per
//     200k files. There the walk uses raw system calls.
//   - A raw call that waits for the disk holds its P (no other goroutine runs
//     on it) until the call returns. A batch during which the thread slept
//     (its count of voluntary context switches, getrusage(RUSAGE_THREAD),
//     went up: the inodes were read from disk, or the kernel waited for a
//     lock) makes the walk use blocking calls until slowBatches batches in a
//     row have not slept. A worker's raw calls thus wait in at most one
//     batch out of slowBatches+1, and a cold walk keeps the I/O parallelism
//     of the blocking calls. Being descheduled for another process is an
//     involuntary switch and does not count (counting it too made no
//     difference beyond noise on a loaded machine).
//
// Each worker starts with one batch of blocking calls.
const (
	statBatch   = 16
	slowBatches = 8
)

// statMode forces one kind of fstatat call for tests: statBlocking or
// statRaw; 0 chooses by batch as above.
var statMode atomic.Int32

const (
	statBlocking = 1
	statRaw      = 2
)

// sleeps returns the calling thread's count of voluntary context switches.
// A goroutine moved to another thread between two calls (rare: only
// preemption moves it) makes one batch's verdict wrong, nothing more.
func sleeps() int64 {
	var ru unix.Rusage
	if unix.Getrusage(unix.RUSAGE_THREAD, &ru) != nil {
		return 0
	}
	return int64(ru.Nvcsw)
}

// batchDone counts down the blocking batches, or restarts the count after a
// batch that slept.
func (ws *walkState) batchDone(slept bool) {
	switch statMode.Load() {
	case statBlocking:
		slept = true
	case statRaw:
		ws.blocking = 0
		return
	}
	if slept {
		ws.blocking = slowBatches
	} else if ws.blocking > 0 {
		ws.blocking--
	}
}

// readDirFast is readDir without allocations per entry: getdents64 into a
// reusable buffer and fstatat, relative to the directory's descriptor and
// without following symlinks, on the NUL-terminated names in place.
func (w *walker) readDirFast(dir string, t *walkTotals, ws *walkState) error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		if err == unix.ENOENT {
			return nil // removed while we walked
		}
		return &os.PathError{Op: "open", Path: dir, Err: err}
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	buf := ws.buf
	atRoot := w.skipReserved && dir == w.root
	for {
		n, err := unix.Getdents(fd, buf)
		if err != nil {
			if err == unix.EINTR {
				continue
			}
			return &os.PathError{Op: "getdents", Path: dir, Err: err}
		}
		if n <= 0 {
			return nil
		}
		batch, slept := 0, sleeps()
		for off := 0; off < n; {
			// struct linux_dirent64: ino u64, off s64, reclen u16, type u8, name.
			reclen := int(binary.NativeEndian.Uint16(buf[off+16:]))
			name := buf[off+19 : off+reclen]
			off += reclen
			if name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0)) || w.skip(atRoot, name) {
				continue
			}
			if batch++; batch > statBatch {
				if err := w.ctx.Err(); err != nil {
					return err
				}
				now := sleeps()
				ws.batchDone(now != slept)
				batch, slept = 1, now
			}
			var e unix.Errno
			if ws.blocking > 0 {
				_, _, e = unix.Syscall6(sysFstatat, uintptr(fd), uintptr(unsafe.Pointer(&name[0])), uintptr(unsafe.Pointer(&st)), unix.AT_SYMLINK_NOFOLLOW, 0, 0)
			} else {
				_, _, e = unix.RawSyscall6(sysFstatat, uintptr(fd), uintptr(unsafe.Pointer(&name[0])), uintptr(unsafe.Pointer(&st)), unix.AT_SYMLINK_NOFOLLOW, 0, 0)
			}
			if e != 0 {
				if e == unix.ENOENT {
					continue
				}
				return &os.PathError{Op: "lstat", Path: dir + "/" + cstring(name), Err: e}
			}
			mode := st.Mode & unix.S_IFMT
			if mode == unix.S_IFDIR {
				ws.subdirs = append(ws.subdirs, dir+"/"+cstring(name))
				t.dirs++
			} else if uint64(st.Nlink) > 1 && !w.firstLink(devIno{uint64(st.Dev), uint64(st.Ino)}) {
				continue
			} else if mode == unix.S_IFREG {
				t.files++
			} else {
				t.others++
			}
			t.bytes += int64(st.Size)
			t.blocks += int64(st.Blocks)
		}
		// The end of a buffer ends a batch too, so a small directory read
		// from a cold cache also switches to blocking calls.
		if batch > 0 {
			ws.batchDone(sleeps() != slept)
		}
	}
}

// cstring returns the bytes of b up to its first NUL as a string.
func cstring(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}
