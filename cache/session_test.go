//go:build !lucidfuzz

package cache_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/HamiGames/lucid-data/cache"
	"github.com/HamiGames/lucid-data/internal/testenv"
)

// afterHook calls after once a command whose arguments include arg has
// succeeded.
type afterHook struct {
	arg   string
	once  sync.Once
	after func(ctx context.Context)
}

func (h *afterHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *afterHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if err == nil && h.has(cmd) {
			h.once.Do(func() { h.after(ctx) })
		}
		return err
	}
}

func (h *afterHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		for _, c := range cmds {
			if err == nil && h.has(c) {
				h.once.Do(func() { h.after(ctx) })
			}
		}
		return err
	}
}

func (h *afterHook) has(cmd redis.Cmder) bool {
	for _, a := range cmd.Args() {
		if s, ok := a.(string); ok && s == h.arg {
			return true
		}
	}
	return false
}

// TestRevokeAllDuringCreate runs B.RevokeAll right after the first command
// of A.Create that touches the user's index (before the session write, if
// Create writes it separately). Afterwards the session must not be valid.
func TestRevokeAllDuringCreate(t *testing.T) {
	servers := map[string]func(t *testing.T) redis.UniversalClient{
		"Redis":   func(t *testing.T) redis.UniversalClient { return testenv.Redis(t) },
		"Cluster": func(t *testing.T) redis.UniversalClient { return testenv.RedisCluster(t) },
	}
	for name, newRDB := range servers {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			a, b := newRDB(t), newRDB(t)
			sa, err := cache.NewRedisSessions(a, cache.SessionOptions{})
			noErr(t, err)
			sb, err := cache.NewRedisSessions(b, cache.SessionOptions{})
			noErr(t, err)
			user := fmt.Sprintf("u-%s-%d", name, time.Now().UnixNano())
			var revoked int
			var revokeErr error
			fired := false
			a.AddHook(&afterHook{arg: cache.TestenvSessionIndexKey(user), after: func(ctx context.Context) {
				fired = true
				revoked, revokeErr = sb.RevokeAll(ctx, user)
			}})
			sess, err := sa.Create(ctx, user, nil, time.Minute)
			noErr(t, err)
			noErr(t, revokeErr)
			if !fired {
				t.Fatal("Create sent no command naming the user's index")
			}
			_, err = sa.Get(ctx, sess.Token)
			if err == nil {
				list, _ := sa.List(ctx, user)
				again, _ := sa.RevokeAll(ctx, user)
				t.Fatalf("session valid after a RevokeAll that ran during its Create (that RevokeAll: %d; List: %d sessions; a second RevokeAll: %d)",
					revoked, len(list), again)
			}
			if !errors.Is(err, cache.ErrNotFound) {
				t.Fatalf("get: %v", err)
			}
		})
	}
}
