package backup

import (
	"context"
	"slices"
)

// maxChain bounds the length of an incremental chain Chain follows.
const maxChain = 10000

// Chain returns the manifests part of backup id depends on, oldest first,
// ending with id's own: length 1 when the part is self-contained. Restoring
// the part means restoring each element's part in order. ErrNotFound when
// id or its part does not exist; ErrCorrupt when a base is missing (or
// unreadable), holds no part of that name and kind, or the chain loops.
func (m *Manager) Chain(ctx context.Context, id, part string) ([]*Manifest, error) {
	if err := m.check("chain"); err != nil {
		return nil, err
	}
	man, err := m.Open(ctx, id)
	if err != nil {
		return nil, wrap(ctx, err, "chain", id, part)
	}
	p, ok := man.Part(part)
	if !ok {
		return nil, newErr(ErrNotFound, "chain", id, part, "no such part")
	}
	return m.chainOf(ctx, man, p)
}

// chainOf follows p's bases from man; see Chain.
func (m *Manager) chainOf(ctx context.Context, man *Manifest, p PartManifest) ([]*Manifest, error) {
	chain := []*Manifest{man}
	seen := map[string]bool{man.ID: true}
	kind := p.Kind
	for p.Base != "" {
		base := p.Base
		if seen[base] {
			return nil, newErr(ErrCorrupt, "chain", man.ID, p.Name, "the chain loops at %s", base)
		}
		if len(chain) >= maxChain {
			return nil, newErr(ErrCorrupt, "chain", man.ID, p.Name, "chain longer than %d", maxChain)
		}
		seen[base] = true
		bm, err := m.Open(ctx, base)
		if err != nil {
			if ctx.Err() != nil {
				return nil, wrap(ctx, err, "chain", man.ID, p.Name)
			}
			return nil, newErr(ErrCorrupt, "chain", man.ID, p.Name, "base %s: %s", base, trimPkg(err.Error()))
		}
		bp, ok := bm.Part(p.Name)
		if !ok || bp.Kind != kind {
			return nil, newErr(ErrCorrupt, "chain", man.ID, p.Name, "base %s holds no %s part of that name", base, kind)
		}
		chain = append(chain, bm)
		p = bp
	}
	slices.Reverse(chain)
	return chain, nil
}
