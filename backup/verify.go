package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"sort"
)

// Report is what Verify checked.
type Report struct {
	ID    string
	Parts []PartReport
}

// PartReport is one verified part.
type PartReport struct {
	Name    string
	Stored  Digest // as read from the sink
	Plain   Digest // after decryption and decompression
	Stats   Stats  // as counted by the kind's Checker
	Parsed  bool   // false when Config.Checkers has no checker for the kind
	Decoded bool   // false for VerifyChecksums
}

// Verify checks backup id end to end: the manifest (format, checksum),
// then for each part the object's size as the sink reports it, then one
// pass over its bytes that hashes them, decrypts, decompresses, hashes the
// plaintext and parses it with the kind's Checker, counting records. Every
// figure is compared with the manifest. A missing, truncated or altered
// part, a manifest edited by hand, a payload that fails age's
// authentication or does not decompress or parse: ErrCorrupt naming the
// part. A key that opens none of a part's recipients, when its bytes are
// intact: ErrKey. Verify stops at the first bad part.
func (m *Manager) Verify(ctx context.Context, id string) (*Report, error) {
	return m.verify(ctx, id, true)
}

// VerifyChecksums checks the manifest and every part's stored size and
// SHA-256 without decrypting: what a host holding only the recipients (no
// identity) can check.
func (m *Manager) VerifyChecksums(ctx context.Context, id string) (*Report, error) {
	return m.verify(ctx, id, false)
}

func (m *Manager) verify(ctx context.Context, id string, decode bool) (*Report, error) {
	man, err := m.Open(ctx, id)
	if err != nil {
		return nil, wrap(ctx, err, "verify", id, "")
	}
	rep := &Report{ID: id}
	for _, p := range man.Parts {
		pr := PartReport{Name: p.Name, Decoded: decode}
		var consume func(context.Context, io.Reader) (Stats, error)
		if decode {
			if c := m.checkers[p.Kind]; c != nil {
				pr.Parsed = true
				consume = func(ctx context.Context, r io.Reader) (Stats, error) {
					st, err := c.Check(ctx, p, r)
					if err != nil && ctx.Err() == nil && !errors.Is(err, ErrCorrupt) {
						err = &Error{Op: "verify", Part: p.Name, Kind: ErrCorrupt, Msg: "does not parse as " + p.Format, Err: err}
					}
					return st, err
				}
			}
		}
		if p.Base != "" {
			if err := m.checkChain(ctx, man, p); err != nil {
				return rep, err
			}
		}
		st, stored, plain, err := m.readPart(ctx, "verify", man, p, decode, consume)
		if err != nil {
			return rep, err
		}
		pr.Stored, pr.Plain, pr.Stats = stored, plain, st
		rep.Parts = append(rep.Parts, pr)
		m.log.InfoContext(ctx, "backup: part verified", "backup", id, "part", p.Name, "records", st.Records, "parsed", pr.Parsed)
	}
	if decode {
		// A record that cannot be written does not make the backup less
		// verified: it only leaves retention without this proof.
		if err := m.putVerifyRecord(ctx, rep); err != nil {
			m.log.WarnContext(ctx, "backup: verify record not written", "backup", id, "err", err)
		}
	}
	return rep, nil
}

// checkChain checks that every base of part p is complete: each manifest
// reads, holds the part with its kind, and the part's object is stored
// with the size its manifest records. The bases' contents are checked by
// verifying those backups.
func (m *Manager) checkChain(ctx context.Context, man *Manifest, p PartManifest) error {
	chain, err := m.chainOf(ctx, man, p)
	if err != nil {
		return wrap(ctx, err, "verify", man.ID, p.Name)
	}
	for _, b := range chain[:len(chain)-1] {
		bp, _ := b.Part(p.Name)
		size, err := m.sink.Size(ctx, joinName(b.ID, bp.Object))
		if err != nil {
			if ctx.Err() != nil {
				return wrap(ctx, err, "verify", man.ID, p.Name)
			}
			return newErr(ErrCorrupt, "verify", man.ID, p.Name, "base %s: object %s: %s", b.ID, bp.Object, trimPkg(err.Error()))
		}
		if size != bp.Stored.Size {
			return newErr(ErrCorrupt, "verify", man.ID, p.Name, "base %s: object %s holds %d bytes, its manifest says %d", b.ID, bp.Object, size, bp.Stored.Size)
		}
	}
	return nil
}

// Restore implements Backupper: it streams part of backup id, decrypted and
// decompressed, into r, checking as Verify does — the stored size first;
// digests and record counts once r is done. r sees the data before the
// end-of-part checks, so a part corrupted past age's authentication (which
// covers each 64 KiB chunk) can only be reported after r wrote what came
// before: restore into a scratch place when that matters, or Verify first.
func (m *Manager) Restore(ctx context.Context, id, part string, r Restorer) (Stats, error) {
	if r == nil {
		return Stats{}, newErr(ErrInvalid, "restore", id, part, "nil restorer")
	}
	man, err := m.Open(ctx, id)
	if err != nil {
		return Stats{}, wrap(ctx, err, "restore", id, part)
	}
	p, ok := man.Part(part)
	if !ok {
		return Stats{}, newErr(ErrNotFound, "restore", id, part, "no such part")
	}
	st, _, _, err := m.readPart(ctx, "restore", man, p, true, func(ctx context.Context, rd io.Reader) (Stats, error) {
		return r.Restore(ctx, p, rd)
	})
	return st, err
}

// readErr remembers an error of the read side, so that a consumer's failure
// caused by bad data is told from one of its own (a full disk).
type readErr struct {
	r   io.Reader
	err error
}

func (e *readErr) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF && e.err == nil {
		e.err = err
	}
	return n, err
}

func (m *Manager) readPart(ctx context.Context, op string, man *Manifest, p PartManifest, decode bool,
	consume func(context.Context, io.Reader) (Stats, error)) (st Stats, stored, plain Digest, err error) {
	id := man.ID
	corrupt := func(format string, args ...any) error {
		return &Error{Op: op, Backup: id, Part: p.Name, Kind: ErrCorrupt, Msg: fmt.Sprintf(format, args...)}
	}
	name := joinName(id, p.Object)
	size, err := m.sink.Size(ctx, name)
	if err != nil {
		if errors.Is(err, ErrNotFound) && ctx.Err() == nil {
			return st, stored, plain, &Error{Op: op, Backup: id, Part: p.Name, Kind: ErrCorrupt, Msg: "part missing: object " + p.Object, Err: err}
		}
		return st, stored, plain, wrap(ctx, err, op, id, p.Name)
	}
	if size != p.Stored.Size {
		return st, stored, plain, corrupt("object %s holds %d bytes, the manifest says %d (truncated or altered)", p.Object, size, p.Stored.Size)
	}
	src, err := m.sink.Open(ctx, name)
	if err != nil {
		if errors.Is(err, ErrNotFound) && ctx.Err() == nil {
			return st, stored, plain, &Error{Op: op, Backup: id, Part: p.Name, Kind: ErrCorrupt, Msg: "part missing: object " + p.Object, Err: err}
		}
		return st, stored, plain, wrap(ctx, err, op, id, p.Name)
	}
	defer src.Close()
	srcErr := &readErr{r: src}

	// checkStored drains and compares the stored digest: a mismatch is
	// the first thing to report, whatever else failed.
	storedBad := func(d *decoder) error {
		d.close() // the zstd decoder reads ahead in its own goroutines: stop them first
		if err := d.drainStored(); err != nil {
			return wrap(ctx, err, op, id, p.Name)
		}
		stored = d.stored.digest()
		if stored != p.Stored {
			return corrupt("object %s: SHA-256 %s, the manifest says %s", p.Object, short(stored.SHA256), short(p.Stored.SHA256))
		}
		return nil
	}
	if !decode {
		d := &decoder{stored: newDigester()}
		d.src = io.TeeReader(ctxReader{ctx: ctx, r: srcErr}, d.stored)
		err := storedBad(d)
		return st, stored, plain, err
	}
	d, derr := newDecoder(ctx, srcErr, p, m.identities)
	defer d.close()
	if derr != nil {
		if serr := storedBad(d); serr != nil {
			return st, stored, plain, serr
		}
		return st, stored, plain, wrap(ctx, derr, op, id, p.Name)
	}
	dataErr := &readErr{r: d.out}
	d.out = dataErr // finish reads the rest through it too
	var out io.Reader = dataErr
	if consume != nil {
		st, err = consume(ctx, out)
	}
	if err == nil {
		err = d.finish()
	}
	if err != nil {
		// The consumer's own failure (a full disk, a non-empty target) is
		// returned as it is, without reading the rest of the object; a
		// failure to decrypt or decompress is corruption (age authenticates
		// every 64 KiB chunk, so intact bytes always decrypt with the key
		// that opened the header).
		if ctx.Err() != nil || srcErr.err != nil {
			return st, stored, plain, wrap(ctx, err, op, id, p.Name)
		}
		if dataErr.err != nil {
			return st, stored, plain, &Error{Op: op, Backup: id, Part: p.Name, Kind: ErrCorrupt, Msg: "does not decrypt or decompress", Err: dataErr.err}
		}
		return st, stored, plain, wrap(ctx, err, op, id, p.Name)
	}
	stored, plain = d.stored.digest(), d.plain.digest()
	if stored != p.Stored {
		return st, stored, plain, corrupt("object %s: SHA-256 %s, the manifest says %s", p.Object, short(stored.SHA256), short(p.Stored.SHA256))
	}
	if plain != p.Plain {
		return st, stored, plain, corrupt("plaintext: %d bytes SHA-256 %s, the manifest says %d bytes %s", plain.Size, short(plain.SHA256), p.Plain.Size, short(p.Plain.SHA256))
	}
	if consume != nil {
		if st.Records != p.Records {
			return st, stored, plain, corrupt("%d records, the manifest says %d", st.Records, p.Records)
		}
		if len(p.Counts) > 0 && !maps.Equal(st.Counts, p.Counts) {
			return st, stored, plain, corrupt("counts %s, the manifest says %s", fmtCounts(st.Counts), fmtCounts(p.Counts))
		}
	}
	return st, stored, plain, nil
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12] + "…"
	}
	return h
}

func fmtCounts(c map[string]int64) string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	s := "{"
	for i, k := range keys {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%s:%d", k, c[k])
	}
	return s + "}"
}
