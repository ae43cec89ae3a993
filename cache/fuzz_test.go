package cache_test

// Fuzz targets without servers: no build tag, so the fuzz step of
// scripts/test.sh (-tags lucidfuzz) runs them.

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/HamiGames/lucid-data/cache"
)

func FuzzParseInfo(f *testing.F) {
	f.Add("redis_version:7.0.15\r\nrole:master\r\nused_memory:1\r\n")
	f.Add("::\n:\nrole:\nused_memory:-99999999999999999999\n")
	f.Fuzz(func(t *testing.T, s string) {
		var n cache.NodeHealth
		cache.ParseInfo(s, &n)
		if n.Version != "" && !strings.Contains(s, n.Version) || n.Role != "" && !strings.Contains(s, "role:"+n.Role) {
			t.Fatalf("ParseInfo(%q) = %+v: fields not from the input", s, n)
		}
	})
}

// FuzzSessionToken feeds arbitrary bearer tokens (untrusted HTTP input)
// to a session store: the answer is ErrInvalid or ErrNotFound, never a
// panic or another error.
func FuzzSessionToken(f *testing.F) {
	s, err := cache.NewMemory().Sessions(cache.SessionOptions{})
	if err != nil {
		f.Fatal(err)
	}
	f.Add("")
	f.Add(strings.Repeat("A", 43))
	f.Add("{tag}" + strings.Repeat("-", 60))
	f.Fuzz(func(t *testing.T, tok string) {
		_, err := s.Get(context.Background(), tok)
		if !errors.Is(err, cache.ErrInvalid) && !errors.Is(err, cache.ErrNotFound) {
			t.Fatalf("token %q: %v", tok, err)
		}
		// An error ends up in logs: it never quotes what it was given.
		if len(tok) >= 8 && strings.Contains(err.Error(), tok) {
			t.Fatalf("error %q quotes the token", err)
		}
	})
}
