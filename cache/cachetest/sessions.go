package cachetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/HamiGames/lucid-data/cache"
	"github.com/HamiGames/lucid-data/lucidkeys"
)

// TestSessions checks a SessionStore. newStore returns a store; user ids
// the suite uses are unique per call of TestSessions' subtests.
func TestSessions(t *testing.T, newStore func(t *testing.T, opts cache.SessionOptions) cache.SessionStore) {
	testSessions(t, newStore, false)
}

func testSessions(t *testing.T, newStore func(t *testing.T, opts cache.SessionOptions) cache.SessionStore, fake bool) {
	user := func(t *testing.T) string {
		return "u" + strings.ReplaceAll(t.Name(), "/", "-") + time.Now().Format("150405.000000000")
	}
	for _, plain := range []bool{false, true} {
		name := "Hashed"
		if plain {
			name = "PlaintextTokens"
		}
		t.Run(name, func(t *testing.T) {
			s, ctx := newStore(t, cache.SessionOptions{PlaintextTokens: plain}), ctxT(t)
			u := user(t)
			a, err := s.Create(ctx, u, map[string]string{"role": "admin"}, 0)
			noErr(t, err, "create")
			if len(a.Token) < 43 {
				t.Fatalf("token %q shorter than 32 bytes base64url", a.Token)
			}
			if a.ID == "" || revealsToken(a.ID, a.Token) {
				t.Fatalf("plaintext=%v: ID %q reveals the token %q", plain, a.ID, a.Token)
			}
			if d := time.Until(a.ExpiresAt); d <= lucidkeys.SessionTTL-time.Minute || d > lucidkeys.SessionTTL {
				t.Fatalf("default expiry in %v, want about %v", d, lucidkeys.SessionTTL)
			}
			g, err := s.Get(ctx, a.Token)
			noErr(t, err, "get")
			if g.UserID != u || g.Values["role"] != "admin" || g.ID != a.ID || g.Token != "" {
				t.Fatalf("get = %+v", g)
			}
			b, err := s.Create(ctx, u, nil, time.Hour)
			noErr(t, err, "create 2")
			list, err := s.List(ctx, u)
			noErr(t, err, "list")
			if len(list) != 2 || !(list[0].ID == a.ID && list[1].ID == b.ID || list[0].ID == b.ID && list[1].ID == a.ID) || list[0].CreatedAt.After(list[1].CreatedAt) {
				t.Fatalf("list = %+v", list)
			}
			for _, l := range list {
				if l.Token != "" || revealsToken(l.ID, a.Token) || revealsToken(l.ID, b.Token) {
					t.Fatalf("listed session %+v reveals a token", l)
				}
			}
			noErr(t, s.Extend(ctx, a.Token, 2*time.Hour), "extend")
			g, err = s.Get(ctx, a.Token)
			noErr(t, err, "get after extend")
			if d := time.Until(g.ExpiresAt); d < time.Hour+50*time.Minute {
				t.Fatalf("expiry after extend in %v", d)
			}
			noErr(t, s.Delete(ctx, a.Token), "delete")
			_, err = s.Get(ctx, a.Token)
			wantErr(t, err, cache.ErrNotFound, "get deleted")
			wantErr(t, s.Delete(ctx, a.Token), cache.ErrNotFound, "delete twice")
			wantErr(t, s.Extend(ctx, a.Token, 0), cache.ErrNotFound, "extend deleted")
			_, err = s.Create(ctx, u, nil, time.Hour)
			noErr(t, err, "create 3")
			n, err := s.RevokeAll(ctx, u)
			if err != nil || n != 2 {
				t.Fatalf("revoke all = %d, %v; want 2", n, err)
			}
			_, err = s.Get(ctx, b.Token)
			wantErr(t, err, cache.ErrNotFound, "get revoked")
			if list, err := s.List(ctx, u); err != nil || len(list) != 0 {
				t.Fatalf("list after revoke = %v, %v", list, err)
			}
		})
	}
	t.Run("ExpiryToTheSecond", onClock(fake, func(t *testing.T) {
		s, ctx := newStore(t, cache.SessionOptions{}), ctxT(t)
		u := user(t)
		a, err := s.Create(ctx, u, nil, time.Second)
		noErr(t, err, "create")
		_, err = s.Get(ctx, a.Token)
		noErr(t, err, "get before expiry")
		time.Sleep(1100 * time.Millisecond)
		_, err = s.Get(ctx, a.Token)
		wantErr(t, err, cache.ErrNotFound, "get after expiry")
		if list, err := s.List(ctx, u); err != nil || len(list) != 0 {
			t.Fatalf("list shows expired: %v, %v", list, err)
		}
	}))
	t.Run("BadInput", func(t *testing.T) {
		s, ctx := newStore(t, cache.SessionOptions{}), ctxT(t)
		_, err := s.Create(ctx, "", nil, 0)
		wantErr(t, err, cache.ErrInvalid, "empty user")
		_, err = s.Create(ctx, "u{1}", nil, 0)
		wantErr(t, err, cache.ErrInvalid, "brace user")
		_, err = s.Create(ctx, "u1", nil, -time.Second)
		wantErr(t, err, cache.ErrInvalid, "negative ttl")
		_, err = s.Create(ctx, "u1", map[string]string{"big": strings.Repeat("x", cache.MaxSessionValuesSize)}, 0)
		wantErr(t, err, cache.ErrInvalid, "oversized values")
		for _, tok := range []string{"", "short", strings.Repeat("!", 50), strings.Repeat("a", 1000)} {
			_, err = s.Get(ctx, tok)
			wantErr(t, err, cache.ErrInvalid, "token "+tok)
		}
		_, err = s.Get(ctx, strings.Repeat("A", 43))
		wantErr(t, err, cache.ErrNotFound, "unknown well-formed token")
		_, err = s.Create(ctx, "u1", nil, cache.MaxSessionTTL+time.Millisecond)
		wantErr(t, err, cache.ErrInvalid, "ttl above MaxSessionTTL")
		a, err := s.Create(ctx, "u1", nil, cache.MaxSessionTTL)
		noErr(t, err, "ttl of MaxSessionTTL")
		wantErr(t, s.Extend(ctx, a.Token, cache.MaxSessionTTL+time.Hour), cache.ErrInvalid, "extend above MaxSessionTTL")
		noErr(t, s.Delete(ctx, a.Token), "delete")
	})
	t.Run("NoTokenInErrors", func(t *testing.T) {
		// Whatever fails, an error never quotes the token it was given:
		// errors end up in logs, and a token in a log is a login.
		s, ctx := newStore(t, cache.SessionOptions{}), ctxT(t)
		a, err := s.Create(ctx, user(t), nil, time.Minute)
		noErr(t, err, "create")
		noErr(t, s.Delete(ctx, a.Token), "delete")
		done, cancel := context.WithCancel(ctx)
		cancel()
		for _, tc := range []struct {
			what, tok string
			ctx       context.Context
		}{
			{"deleted", a.Token, ctx},
			{"cancelled ctx", a.Token, done},
			{"bad character", a.Token[:20] + "!" + a.Token[21:], ctx},
			{"too long", strings.Repeat(a.Token, 10), ctx},
			{"bad length", a.Token + "x", ctx},
		} {
			_, gerr := s.Get(tc.ctx, tc.tok)
			derr := s.Delete(tc.ctx, tc.tok)
			eerr := s.Extend(tc.ctx, tc.tok, time.Minute)
			for _, err := range []error{gerr, derr, eerr} {
				if err == nil {
					t.Fatalf("%s: no error", tc.what)
				}
				if revealsToken(err.Error(), a.Token) || revealsToken(fmt.Sprintf("%+v", err), a.Token) {
					t.Fatalf("%s: error %q reveals the token", tc.what, err)
				}
			}
		}
	})
	t.Run("RevokeAllRacesLogins", func(t *testing.T) {
		// Logins race RevokeAll calls; after a final RevokeAll in quiet,
		// no session may be valid. A session whose index entry a
		// concurrent RevokeAll removed before the session was written
		// would survive here.
		s, ctx := newStore(t, cache.SessionOptions{}), ctxT(t)
		u := user(t)
		var (
			mu     sync.Mutex
			tokens []string
			wg     sync.WaitGroup
			fail   error
		)
		stop := make(chan struct{})
		for range 4 {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					sess, err := s.Create(ctx, u, nil, time.Minute)
					mu.Lock()
					if err != nil {
						fail = errors.Join(fail, err)
						mu.Unlock()
						return
					}
					tokens = append(tokens, sess.Token)
					full := len(tokens) >= 20000
					mu.Unlock()
					if full {
						return
					}
				}
			})
		}
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := s.RevokeAll(ctx, u); err != nil {
					mu.Lock()
					fail = errors.Join(fail, err)
					mu.Unlock()
					return
				}
			}
		})
		time.Sleep(time.Second)
		close(stop)
		wg.Wait()
		noErr(t, fail, "racing calls")
		_, err := s.RevokeAll(ctx, u)
		noErr(t, err, "final revoke")
		valid := 0
		for _, tok := range tokens {
			_, err := s.Get(ctx, tok)
			switch {
			case err == nil:
				valid++
			case !errors.Is(err, cache.ErrNotFound):
				t.Fatalf("get: %v", err)
			}
		}
		if valid > 0 {
			t.Fatalf("%d of %d sessions still valid after the final RevokeAll", valid, len(tokens))
		}
		t.Logf("%d logins raced RevokeAll; none valid after the final one", len(tokens))
	})
}

// revealsToken reports whether s shows token or a usable part of it (the
// random part after the two-byte tag).
func revealsToken(s, token string) bool {
	return strings.Contains(s, token) || strings.Contains(token, s) || len(token) > 8 && strings.Contains(s, token[8:])
}
