package volumepart

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"

	"github.com/HamiGames/lucid-data/backup"
)

// maxHeadMember bounds the deletion list and the index a reader accepts
// (an index line is about 100 bytes: some ten million entries).
const maxHeadMember = 1 << 30

// readMember reads the current member of tr, which must be the regular
// file name.
func readMember(tr *tar.Reader, name string) ([]byte, error) {
	h, err := tr.Next()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("volumepart: reading %s: %w", name, err)
	}
	if h.Name != name || h.Typeflag != tar.TypeReg {
		return nil, fmt.Errorf("volumepart: member %.80q where %s belongs", h.Name, name)
	}
	if h.Size > maxHeadMember {
		return nil, fmt.Errorf("volumepart: %s of %d bytes", name, h.Size)
	}
	// Read as it comes: memory follows the data, not what a header claims.
	b, err := io.ReadAll(tr)
	if err != nil {
		return nil, fmt.Errorf("volumepart: reading %s: %w", name, err)
	}
	return b, nil
}

// head reads a format-2 part's first two members.
func head(tr *tar.Reader) ([]string, *index, error) {
	b, err := readMember(tr, DeletedMember)
	if err != nil {
		return nil, nil, err
	}
	deleted, err := parseDeleted(b)
	if err != nil {
		return nil, nil, fmt.Errorf("volumepart: %w", err)
	}
	b, err = readMember(tr, IndexMember)
	if err != nil {
		return nil, nil, err
	}
	x, err := parseIndex(bytes.NewReader(b))
	if err != nil {
		return nil, nil, fmt.Errorf("volumepart: %w", err)
	}
	return deleted, x, nil
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// readHead reads the first two members of a format-2 stream and returns
// the rest of it, starting at the next header, for volume.Extract. A
// tar.Reader reads a member's header blocks and content and nothing more
// (the padding waits for the next header), which the count checks.
func readHead(r io.Reader) ([]string, *index, io.Reader, error) {
	cr := &countReader{r: r}
	tr := tar.NewReader(cr)
	deleted, x, err := head(tr)
	if err != nil {
		return nil, nil, nil, err
	}
	// The index member's content ended at cr.n; its padding follows.
	if pad := (512 - cr.n%512) % 512; pad > 0 {
		if _, err := io.CopyN(io.Discard, cr, pad); err != nil {
			return nil, nil, nil, fmt.Errorf("volumepart: after the index: %w", err)
		}
	}
	return deleted, x, cr, nil
}

// check parses a format-2 part (see Checker) and returns its head.
func check(ctx context.Context, p backup.PartManifest, r io.Reader) (backup.Stats, []string, *index, error) {
	corrupt := func(format string, args ...any) error {
		return &backup.Error{Op: "check", Part: p.Name, Kind: backup.ErrCorrupt, Msg: fmt.Sprintf(format, args...)}
	}
	tr := tar.NewReader(r)
	deleted, x, err := head(tr)
	if err != nil {
		return backup.Stats{}, nil, nil, &backup.Error{Op: "check", Part: p.Name, Kind: backup.ErrCorrupt, Err: err}
	}
	if x.base != p.Base {
		return backup.Stats{}, nil, nil, corrupt("the index names base %q, the manifest %q", x.base, p.Base)
	}
	ps := partStats{members: 2, deleted: int64(len(deleted))}
	var sums []byte
	regular := map[string]bool{}
	h := sha256.New()
	j := 0 // the next index entry an entry may be
	for {
		if err := ctx.Err(); err != nil {
			return backup.Stats{}, nil, nil, err
		}
		hd, err := tr.Next()
		if err == io.EOF {
			return backup.Stats{}, nil, nil, corrupt("no %s member at the end", SumsMember)
		}
		if err != nil {
			return backup.Stats{}, nil, nil, err
		}
		if hd.Name == SumsMember {
			b, err := io.ReadAll(io.LimitReader(tr, maxHeadMember))
			if err != nil {
				return backup.Stats{}, nil, nil, err
			}
			if string(b) != string(sums) {
				got, _ := parseSums(b)
				want, _ := parseSums(sums)
				for i := range min(len(got), len(want)) {
					if got[i] != want[i] {
						return backup.Stats{}, nil, nil, corrupt("file %.80q: SHA-256 %s, the part's sums say %s for %.80q", want[i].name, want[i].sum[:12], got[i].sum[:12], got[i].name)
					}
				}
				return backup.Stats{}, nil, nil, corrupt("the sums member lists %d files, the part stores %d", len(got), len(want))
			}
			ps.members++
			if _, err := tr.Next(); err != io.EOF {
				return backup.Stats{}, nil, nil, corrupt("entries after %s", SumsMember)
			}
			return ps.stats(), deleted, x, nil
		}
		name := hd.Name
		if hd.Typeflag == tar.TypeDir && len(name) > 1 && name[len(name)-1] == '/' {
			name = name[:len(name)-1]
		}
		for j < len(x.entries) && x.entries[j].path != name {
			j++ // listed, then gone before it was read
		}
		if j == len(x.entries) {
			return backup.Stats{}, nil, nil, corrupt("entry %.80q is not in the index (or out of its order)", hd.Name)
		}
		e := &x.entries[j]
		j++
		ok := false
		switch hd.Typeflag {
		case tar.TypeDir:
			ok = e.typ == 'd'
			ps.dirs++
		case tar.TypeSymlink:
			ok = e.typ == 'l'
			ps.symlinks++
		case tar.TypeLink:
			ok = e.typ == 'f' && regular[hd.Linkname]
			ps.links++
		case tar.TypeReg:
			ok = e.typ == 'f'
			ps.files++
			h.Reset()
			n, err := io.Copy(h, tr)
			if err != nil {
				return backup.Stats{}, nil, nil, err
			}
			ps.bytes += n
			sums = appendSum(sums, h.Sum(nil), name)
			regular[name] = true
		default:
			return backup.Stats{}, nil, nil, corrupt("tar entry %.80q of a type a volume part never holds", hd.Name)
		}
		if !ok {
			return backup.Stats{}, nil, nil, corrupt("entry %.80q (type %q) does not match its index line (%c)", hd.Name, hd.Typeflag, e.typ)
		}
	}
}

// errHeadDone stops a restore once the head of a part is read.
var errHeadDone = errors.New("volumepart: head read")

// headReader is a Restorer that reads a part's deletion list and index and
// stops: backup.Manager.Restore returns the consumer's error without
// reading the rest, so the next incremental reads a few age chunks of
// each base, not the bases.
type headReader struct {
	deleted []string
	x       *index
}

func (h *headReader) Restore(ctx context.Context, p backup.PartManifest, r io.Reader) (backup.Stats, error) {
	var err error
	h.deleted, h.x, err = head(tar.NewReader(r))
	if err != nil {
		return backup.Stats{}, &backup.Error{Op: "restore", Part: p.Name, Kind: backup.ErrCorrupt, Err: err}
	}
	return backup.Stats{}, errHeadDone
}

// loadState returns the tree as the part of backup id recorded it: its
// chain's deletion lists and indexes applied oldest first.
func loadState(ctx context.Context, m *backup.Manager, id, part string) (map[string]*entry, error) {
	chain, err := m.Chain(ctx, id, part)
	if err != nil {
		return nil, err
	}
	state := map[string]*entry{}
	for _, link := range chain {
		p, _ := link.Part(part)
		if p.Kind != Kind || p.FormatVersion < 2 {
			return nil, &backup.Error{Op: "volume part", Backup: link.ID, Part: part, Kind: backup.ErrUnsupported,
				Msg: fmt.Sprintf("base part of format version %d has no index to be incremental on: take a self-contained backup", p.FormatVersion)}
		}
		h := &headReader{}
		if _, err := m.Restore(ctx, link.ID, part, h); !errors.Is(err, errHeadDone) {
			if err == nil {
				err = &backup.Error{Op: "volume part", Backup: link.ID, Part: part, Kind: backup.ErrCorrupt, Msg: "no index read"}
			}
			return nil, err
		}
		if h.x.base != p.Base {
			return nil, &backup.Error{Op: "volume part", Backup: link.ID, Part: part, Kind: backup.ErrCorrupt,
				Msg: fmt.Sprintf("the index names base %q, the manifest %q", h.x.base, p.Base)}
		}
		for _, d := range h.deleted {
			delete(state, d)
		}
		for i := range h.x.entries {
			e := &h.x.entries[i]
			state[e.path] = e
		}
	}
	return state, nil
}

// RestoreChain restores the part of backup id as it was at that backup:
// each part of its chain (backup.Manager.Chain), oldest first, through
// m.Restore — the self-contained one, then each incremental's deletions
// and entries over it. r is a Restorer or a VolumeRestorer; its Overwrite
// applies to the first part (the later ones write over it by design), and
// a Restorer without Dir restores into the directory id's part was taken
// from. A VolumeRestorer swaps the first part in (see VolumeRestorer,
// within the volume's quota) and applies the others in place, with no
// quota cap (the volume's monitor still sees them). A failure leaves the parts before the
// failing one applied; the error names the backup that failed. The Stats
// returned add up those of every part.
func RestoreChain(ctx context.Context, m *backup.Manager, id, part string, r backup.Restorer) (backup.Stats, error) {
	chain, err := m.Chain(ctx, id, part)
	if err != nil {
		return backup.Stats{}, err
	}
	last, _ := chain[len(chain)-1].Part(part)
	var first backup.Restorer
	var rest Restorer
	switch r := r.(type) {
	case Restorer:
		if r.Dir == "" {
			r.Dir = last.Meta[MetaDir]
		}
		first, rest = r, Restorer{Dir: r.Dir, Extract: r.Extract, link: true}
	case VolumeRestorer:
		first = r
		if len(chain) > 1 {
			v, err := r.Volumes.Get(ctx, r.Name)
			if err != nil {
				return backup.Stats{}, err
			}
			rest = Restorer{Dir: v.Path, link: true}
		}
	default:
		return backup.Stats{}, &backup.Error{Op: "restore", Backup: id, Part: part, Kind: backup.ErrInvalid, Msg: fmt.Sprintf("RestoreChain takes a Restorer or a VolumeRestorer, not %T", r)}
	}
	total := backup.Stats{Counts: map[string]int64{}}
	for i, link := range chain {
		var rr backup.Restorer = rest
		if i == 0 {
			rr = first
		}
		st, err := m.Restore(ctx, link.ID, part, rr)
		total.Records += st.Records
		for k, v := range st.Counts {
			total.Counts[k] += v
		}
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// LinkReport is one verified part of a chain.
type LinkReport struct {
	ID    string       // the backup
	Stats backup.Stats // as the Checker counted them
}

// VerifyChain checks the part of backup id and its whole chain: every part,
// oldest first, through backup.Manager.Restore with the Checker (stored
// size and SHA-256, decryption, plaintext SHA-256, parse and counts
// against its manifest, as Verify does for a backup) and across parts:
// each index names the previous part as its base and each deletion names
// what the chain held. A missing, truncated or altered part fails with
// backup.ErrCorrupt (backup.ErrKey for a key that opens none) naming the
// backup it belongs to.
func VerifyChain(ctx context.Context, m *backup.Manager, id, part string) ([]LinkReport, error) {
	chain, err := m.Chain(ctx, id, part)
	if err != nil {
		return nil, err
	}
	held := map[string]bool{}
	var out []LinkReport
	for i, link := range chain {
		c := &chainLink{}
		st, err := m.Restore(ctx, link.ID, part, c)
		if err != nil {
			return out, &backup.Error{Op: "verify chain", Backup: id, Part: part,
				Msg: fmt.Sprintf("part %d of %d, backup %s", i+1, len(chain), link.ID), Err: err}
		}
		for _, d := range c.deleted {
			if !held[d] {
				return out, &backup.Error{Op: "verify chain", Backup: id, Part: part, Kind: backup.ErrCorrupt,
					Msg: fmt.Sprintf("part %d of %d, backup %s, deletes %.80q, which the chain before it does not hold", i+1, len(chain), link.ID, d)}
			}
			delete(held, d)
		}
		for _, e := range c.x.entries {
			held[e.path] = true
		}
		out = append(out, LinkReport{ID: link.ID, Stats: st})
	}
	return out, nil
}

// chainLink is a Restorer that checks a part and keeps its head.
type chainLink struct {
	deleted []string
	x       *index
}

func (c *chainLink) Restore(ctx context.Context, p backup.PartManifest, r io.Reader) (backup.Stats, error) {
	if p.Kind != Kind || p.FormatVersion < 2 {
		return backup.Stats{}, &backup.Error{Op: "verify chain", Part: p.Name, Kind: backup.ErrUnsupported, Msg: "not a volume part of format version 2"}
	}
	st, deleted, x, err := check(ctx, p, r)
	c.deleted, c.x = deleted, x
	return st, err
}

// ChainChecker is the Checker to put in backup.Config.Checkers when
// Verify must check a volume part's whole chain: it checks the part as
// Checker does and, for an incremental part, every part of its base's
// chain with VerifyChain. The Manager is set once it exists:
//
//	cc := &volumepart.ChainChecker{}
//	m, err := backup.NewLocal(dir, backup.Config{Checkers: map[string]backup.Checker{volumepart.Kind: cc}, ...})
//	cc.Manager = m
type ChainChecker struct {
	Manager *backup.Manager
}

// Check implements backup.Checker.
func (c ChainChecker) Check(ctx context.Context, p backup.PartManifest, r io.Reader) (backup.Stats, error) {
	st, err := Checker{}.Check(ctx, p, r)
	if err != nil || p.Base == "" {
		return st, err
	}
	if c.Manager == nil {
		return st, &backup.Error{Op: "check", Part: p.Name, Kind: backup.ErrInvalid, Msg: "ChainChecker without its Manager"}
	}
	if _, err := VerifyChain(ctx, c.Manager, p.Base, p.Name); err != nil {
		return st, err
	}
	return st, nil
}
