package volume

import (
	"context"
	"sync"
	"time"
)

// Usage is what a volume (or any directory) holds and the state of the
// filesystem under it.
type Usage struct {
	// Path is the directory measured.
	Path string
	// Bytes is the apparent size of everything under Path, the directory
	// itself included, each hard-linked inode counted once: the figure of
	// `du -sb`. Quotas are enforced on it. For a volume, the package's own
	// files (metadata, manifest) are left out of all counts.
	Bytes int64
	// AllocatedBytes is the space the same inodes take on disk (st_blocks ×
	// 512): smaller than Bytes for sparse files, larger for many tiny ones.
	AllocatedBytes int64
	// Files, Dirs and Others count regular files, directories (Path
	// included) and everything else (symlinks, sockets, fifos, devices).
	Files, Dirs, Others int64
	// Quota is the volume's quota in bytes, 0 for a plain directory.
	Quota int64
	// Percent is Bytes as a percentage of Quota (0 when Quota is 0).
	Percent float64
	// FS describes the filesystem holding Path.
	FS FSStats
	// Source says where Bytes and Files came from: "walk" (a full walk;
	// Usage and ScanDir always walk) or, in a Monitor's events, "quota"
	// (the kernel's project quota accounting: Bytes is the space it
	// charges, Files the inodes) or "none" (not measured yet).
	Source string
	// Measured is when Bytes and Files were measured: a monitor tick
	// between walks reports the last walk's figures with its time.
	Measured time.Time
}

// FSStats is the statfs(2) view of a filesystem. Sizes are in bytes.
type FSStats struct {
	Type        string  // filesystem name from the statfs magic, e.g. "ext2/ext3/ext4", "tmpfs"
	BlockSize   int64   // fundamental block size
	Total       uint64  // size of the filesystem
	Free        uint64  // free space, including blocks reserved for root
	Available   uint64  // free space available to unprivileged users
	Inodes      uint64  // total inodes (0 where the filesystem has no fixed count)
	InodesFree  uint64  // free inodes
	ReadOnly    bool    // mounted read-only
	UsedPercent float64 // used / (used + available) × 100, as df computes "Use%"
}

// Usage measures volume name: a parallel walk of its directory plus statfs of
// its filesystem, with the percent of its quota.
func (m *DirManager) Usage(ctx context.Context, name string) (Usage, error) {
	v, err := m.Get(ctx, name)
	if err != nil {
		return Usage{}, err
	}
	u, err := m.walkVolume(ctx, v, true)
	if err != nil {
		return Usage{}, err
	}
	u.Quota = v.Quota
	u.Percent = percent(u.Bytes, v.Quota)
	return u, nil
}

// walkResult is the outcome of the last full walk of a volume.
type walkResult struct {
	u  Usage
	at time.Time // when the walk ended
}

// walkVolume walks volume v and records the result, which health checks and
// monitor ticks report (with its age) between walks.
func (m *DirManager) walkVolume(ctx context.Context, v Volume, withFS bool) (Usage, error) {
	u, err := scanVolume(ctx, v.Path, walkWorkers(m.cfg.Workers), withFS)
	if err != nil {
		return Usage{}, err
	}
	u.Source, u.Measured = usageFromWalk, time.Now().UTC()
	m.usageMu.Lock()
	m.walked[v.Name] = walkResult{u: u, at: u.Measured}
	m.usageMu.Unlock()
	return u, nil
}

// lastWalk returns the last full walk of volume name, if any.
func (m *DirManager) lastWalk(name string) (walkResult, bool) {
	m.usageMu.Lock()
	defer m.usageMu.Unlock()
	w, ok := m.walked[name]
	return w, ok
}

// ScanDir measures any directory as Usage does for a volume: bytes (as `du
// -sb`), allocated bytes and file counts from a walk by up to workers
// goroutines (0: 4 × GOMAXPROCS), and statfs of its filesystem. Symlinks are
// not followed, hard links are counted once, and the walk stops when ctx is
// cancelled. Entries that vanish during the walk are skipped; unreadable
// directories fail the scan.
func ScanDir(ctx context.Context, dir string, workers int) (Usage, error) {
	return scanDir(ctx, dir, walkWorkers(workers), true)
}

func percent(n, of int64) float64 {
	if of <= 0 {
		return 0
	}
	return float64(n) * 100 / float64(of)
}

// devIno identifies an inode.
type devIno struct{ dev, ino uint64 }

// walkTotals are the per-worker sums merged at the end of a walk.
type walkTotals struct {
	bytes, blocks       int64
	files, dirs, others int64
}

func (t *walkTotals) add(o walkTotals) {
	t.bytes += o.bytes
	t.blocks += o.blocks
	t.files += o.files
	t.dirs += o.dirs
	t.others += o.others
}

// walker is a bounded pool of goroutines sharing a stack of directories.
type walker struct {
	ctx          context.Context
	root         string // top directory of the walk
	skipReserved bool   // leave out the package's own files at the top

	mu      sync.Mutex
	cond    sync.Cond
	stack   []string // directories waiting to be read
	pending int      // directories queued or being read
	err     error    // first error; stops the walk

	linkMu sync.Mutex
	links  map[devIno]struct{} // inodes with nlink > 1 already counted
}

// scanDir walks dir with n workers and, if withFS, adds statfs figures.
func scanDir(ctx context.Context, dir string, n int, withFS bool) (Usage, error) {
	return scan(ctx, dir, n, withFS, false)
}

// scanVolume is scanDir leaving out the package's own files at the top.
func scanVolume(ctx context.Context, dir string, n int, withFS bool) (Usage, error) {
	return scan(ctx, dir, n, withFS, true)
}

func scan(ctx context.Context, dir string, n int, withFS, skipReserved bool) (Usage, error) {
	if err := ctx.Err(); err != nil {
		return Usage{}, ioErr(err, "scan %s", dir)
	}
	topSize, topBlocks, err := statTop(dir)
	if err != nil {
		return Usage{}, err
	}
	w := &walker{ctx: ctx, root: dir, skipReserved: skipReserved, stack: []string{dir}, pending: 1, links: make(map[devIno]struct{})}
	w.cond.L = &w.mu
	results := make([]walkTotals, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(t *walkTotals) {
			defer wg.Done()
			w.work(t)
		}(&results[i])
	}
	wg.Wait()
	if w.err != nil {
		return Usage{}, ioErr(w.err, "scan %s", dir)
	}
	tot := walkTotals{bytes: topSize, blocks: topBlocks, dirs: 1}
	for _, r := range results {
		tot.add(r)
	}
	u := Usage{Path: dir, Bytes: tot.bytes, AllocatedBytes: tot.blocks * 512, Files: tot.files, Dirs: tot.dirs, Others: tot.others, Source: usageFromWalk, Measured: time.Now().UTC()}
	if withFS {
		fs, err := StatFS(ctx, dir)
		if err != nil {
			return Usage{}, err
		}
		u.FS = fs
	}
	return u, nil
}

// walkState is what one walk goroutine reuses from directory to directory.
type walkState struct {
	buf     []byte   // getdents buffer
	subdirs []string // subdirectories found in the directory being read
}

// walkStates keeps walkState buffers (32 KiB each, a worker's) from scan
// to scan: a monitor scanning small volumes often would otherwise allocate
// mostly getdents buffers.
var walkStates = sync.Pool{New: func() any { return &walkState{buf: make([]byte, 32<<10)} }}

// work takes directories off the stack until the walk is done or failed.
func (w *walker) work(t *walkTotals) {
	ws := walkStates.Get().(*walkState)
	defer func() {
		clear(ws.subdirs)
		ws.subdirs = ws.subdirs[:0]
		walkStates.Put(ws)
	}()
	for {
		w.mu.Lock()
		for len(w.stack) == 0 && w.pending > 0 && w.err == nil {
			w.cond.Wait()
		}
		if w.err != nil || w.pending == 0 {
			w.mu.Unlock()
			return
		}
		dir := w.stack[len(w.stack)-1]
		w.stack = w.stack[:len(w.stack)-1]
		w.mu.Unlock()

		ws.subdirs = ws.subdirs[:0]
		err := w.readDirFast(dir, t, ws)
		subdirs := ws.subdirs

		w.mu.Lock()
		if err != nil && w.err == nil {
			w.err = err
		}
		w.stack = append(w.stack, subdirs...)
		w.pending += len(subdirs) - 1
		if w.pending == 0 || w.err != nil || len(subdirs) > 1 {
			w.cond.Broadcast()
		} else if len(subdirs) == 1 {
			w.cond.Signal()
		}
		w.mu.Unlock()
	}
}

// firstLink reports whether the inode k is seen for the first time.
func (w *walker) firstLink(k devIno) bool {
	w.linkMu.Lock()
	defer w.linkMu.Unlock()
	if _, ok := w.links[k]; ok {
		return false
	}
	w.links[k] = struct{}{}
	return true
}

// skip reports whether name, an entry of dir, is one of the package's own
// files to leave out of a volume's usage.
func (w *walker) skip(atRoot bool, name []byte) bool {
	return atRoot && len(name) >= len(reservedPrefix) && string(name[:len(reservedPrefix)]) == reservedPrefix
}
