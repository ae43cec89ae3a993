package volume

import (
	"context"
	"sync"
)

// Reservation is a claim on part of a volume's soft quota, taken before a
// large write and released once the data is on disk (after which the usage
// walk counts it). Release is idempotent and safe from any goroutine.
type Reservation struct {
	m    *DirManager
	name string
	n    int64
	once sync.Once
}

// Bytes returns the number of bytes reserved.
func (r *Reservation) Bytes() int64 { return r.n }

// Volume returns the name of the volume the reservation is on.
func (r *Reservation) Volume() string { return r.name }

// Release returns the reserved bytes to the volume. Calling it again does
// nothing.
func (r *Reservation) Release() {
	r.once.Do(func() {
		r.m.mu.Lock()
		defer r.m.mu.Unlock()
		if left := r.m.reserved[r.name] - r.n; left > 0 {
			r.m.reserved[r.name] = left
		} else {
			delete(r.m.reserved, r.name)
		}
	})
}

// CheckSpace reports whether n more bytes fit in volume name: nil if they do,
// ErrQuotaExceeded if usage plus outstanding reservations plus n would pass
// the quota, ErrNoSpace if the filesystem has not that much available (or no
// free inodes). It measures usage with a fresh walk, so its cost grows with
// the number of files. Soft quotas are enforced by this package, not by the
// kernel: writers that skip Check or Reserve are not stopped (see
// SetHardQuota).
func (m *DirManager) CheckSpace(ctx context.Context, name string, n int64) error {
	_, err := m.reserve(ctx, name, n, false)
	return err
}

// Reserve claims n bytes of volume name's quota under the same rules as
// CheckSpace and returns the claim; the caller writes, then calls Release.
// Reservations are held in memory by this DirManager.
func (m *DirManager) Reserve(ctx context.Context, name string, n int64) (*Reservation, error) {
	return m.reserve(ctx, name, n, true)
}

func (m *DirManager) reserve(ctx context.Context, name string, n int64, hold bool) (*Reservation, error) {
	if n < 0 {
		return nil, newErr(ErrInvalid, "reserve %d bytes on %q: negative size", n, name)
	}
	u, err := m.Usage(ctx, name)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	held := m.reserved[name]
	if u.Bytes+held+n > u.Quota {
		return nil, newErr(ErrQuotaExceeded, "volume %q: %s more would make %s of its %s quota (%s used, %s reserved)",
			name, FormatSize(n), FormatSize(u.Bytes+held+n), FormatSize(u.Quota), FormatSize(u.Bytes), FormatSize(held))
	}
	var all int64
	for _, r := range m.reserved {
		all += r
	}
	if uint64(all+n) > u.FS.Available {
		return nil, newErr(ErrNoSpace, "volume %q: %s more (plus %s reserved) does not fit in the %s available on its filesystem",
			name, FormatSize(n), FormatSize(all), FormatSize(int64(u.FS.Available)))
	}
	if u.FS.Inodes > 0 && u.FS.InodesFree == 0 {
		return nil, newErr(ErrNoSpace, "volume %q: its filesystem has no free inodes", name)
	}
	if !hold {
		return nil, nil
	}
	m.reserved[name] = held + n
	return &Reservation{m: m, name: name, n: n}, nil
}

// Reserved returns the bytes currently reserved on volume name.
func (m *DirManager) Reserved(name string) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.reserved[name]
}
