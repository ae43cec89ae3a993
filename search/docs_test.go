//go:build !lucidfuzz

package search

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestDocumentsOptimisticConcurrency(t *testing.T) {
	c := newTestClient(t, Config{})
	ctx := ctxT(t)
	idx := c.cfg.IndexPrefix + "docs"
	type doc struct {
		UserID string `json:"user_id"`
		N      int    `json:"n"`
	}
	w1, err := c.Index(ctx, idx, "d/1?x", doc{"u", 1}, &WriteOptions{Refresh: RefreshWaitFor})
	if err != nil || w1.Result != "created" || w1.ID != "d/1?x" {
		t.Fatalf("index: %+v %v", w1, err)
	}
	var got doc
	d, err := c.Get(ctx, idx, "d/1?x", &got)
	if err != nil || got != (doc{"u", 1}) || d.SeqNo != w1.SeqNo || d.PrimaryTerm != w1.PrimaryTerm {
		t.Fatalf("get: %+v %+v %v", d, got, err)
	}
	// Two writers read the same version; only the first conditional write wins.
	w2, err := c.Update(ctx, idx, "d/1?x", map[string]any{"n": 2}, Version(d.SeqNo, d.PrimaryTerm))
	if err != nil || w2.Result != "updated" {
		t.Fatalf("update: %+v %v", w2, err)
	}
	_, err = c.Update(ctx, idx, "d/1?x", map[string]any{"n": 3}, Version(d.SeqNo, d.PrimaryTerm))
	var e *Error
	if !errors.Is(err, ErrConflict) || !errors.As(err, &e) || e.Type != "version_conflict_engine_exception" {
		t.Fatalf("stale update: %v", err)
	}
	if _, err := c.Index(ctx, idx, "d/1?x", doc{"u", 9}, Version(d.SeqNo, d.PrimaryTerm)); !errors.Is(err, ErrConflict) {
		t.Fatalf("stale index: %v", err)
	}
	if _, err := c.Delete(ctx, idx, "d/1?x", Version(d.SeqNo, d.PrimaryTerm)); !errors.Is(err, ErrConflict) {
		t.Fatalf("stale delete: %v", err)
	}
	if _, err := c.Index(ctx, idx, "d/1?x", doc{}, &WriteOptions{Create: true}); !errors.Is(err, ErrConflict) {
		t.Fatalf("create existing: %v", err)
	}
	// Refresh=true makes the write visible to search at once.
	if _, err := c.Index(ctx, idx, "", doc{"auto", 1}, &WriteOptions{Refresh: RefreshTrue}); err != nil {
		t.Fatal(err)
	}
	res, err := c.Search(ctx, idx, SearchRequest{Query: Term{Field: "user_id", Value: "auto"}})
	if err != nil || res.Total != 1 || res.Hits[0].ID == "" {
		t.Fatalf("auto id doc: %+v %v", res, err)
	}
	del, err := c.Delete(ctx, idx, "d/1?x", Version(w2.SeqNo, w2.PrimaryTerm))
	if err != nil || del.Result != "deleted" {
		t.Fatalf("delete: %+v %v", del, err)
	}
	if _, err := c.Get(ctx, idx, "d/1?x", nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get deleted: %v", err)
	}
	if _, err := c.Delete(ctx, idx, "d/1?x", nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete deleted: %v", err)
	}
	if _, err := c.Update(ctx, idx, "nope", map[string]any{"n": 1}, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update missing: %v", err)
	}
	if _, err := c.Get(ctx, c.cfg.IndexPrefix+"missing-index", "x", nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get from missing index: %v", err)
	}
}

func TestDocumentsBadInput(t *testing.T) {
	c := newTestClient(t, Config{})
	ctx := ctxT(t)
	idx := c.cfg.IndexPrefix + "bad"
	cases := []struct {
		name string
		doc  any
	}{
		{"array", []int{1}},
		{"raw not object", json.RawMessage(`"x"`)},
		{"raw invalid", json.RawMessage(`{"a":`)},
		{"bytes invalid", []byte(`{]`)},
		{"unencodable", map[string]any{"f": func() {}}},
		{"nil", nil},
	}
	for _, tc := range cases {
		if _, err := c.Index(ctx, idx, "x", tc.doc, nil); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if _, err := c.Get(ctx, idx, "", nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty id: %v", err)
	}
	if _, err := c.Index(ctx, idx, string(make([]byte, 600)), map[string]any{}, nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("long id: %v", err)
	}
	if _, err := c.Index(ctx, "Bad Index", "x", map[string]any{}, nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad index: %v", err)
	}
	// A type conflict is rejected by the engine as bad input with its reason.
	if _, err := c.Index(ctx, idx, "n", map[string]any{"n": 1}, nil); err != nil {
		t.Fatal(err)
	}
	_, err := c.Index(ctx, idx, "m", map[string]any{"n": "not a number"}, nil)
	var e *Error
	if !errors.Is(err, ErrInvalid) || !errors.As(err, &e) || e.Type != "mapper_parsing_exception" || e.Status != 400 {
		t.Fatalf("mapping conflict: %v", err)
	}
}
