package cache

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/HamiGames/lucid-data/lucidkeys"
)

// SessionStore keeps login sessions behind opaque bearer tokens.
//
// # Keys and Redis Cluster
//
// A session lives at lucid:session:token:{id} and every user has an index
// set lucid:session:user:{<user>} of their session ids. Session keys are
// deliberately not tagged by user: Get must work from the token alone, and
// tagging by user would need the user id inside the token. So a session and
// its index are in different slots and Create, Delete and RevokeAll are
// ordered rather than atomic: Create adds the id to the index before writing
// the session, and RevokeAll removes only the ids it deleted. The index
// therefore always lists every live session (it may also list expired ones,
// which List drops), and a revoke can never miss a session created before it.
type SessionStore interface {
	// Create starts a session for userID holding values, living ttl
	// (0: the store's default, lucidkeys.SessionTTL unless configured).
	// The returned Session's Token is the only copy of the bearer token.
	Create(ctx context.Context, userID string, values map[string]string, ttl time.Duration) (Session, error)
	// Get returns the live session of token, or ErrNotFound.
	Get(ctx context.Context, token string) (Session, error)
	// Extend makes the session of token live ttl from now (0: default).
	Extend(ctx context.Context, token string, ttl time.Duration) error
	// Delete ends the session of token; ErrNotFound if there is none.
	Delete(ctx context.Context, token string) error
	// List returns the live sessions of userID, oldest first (without
	// tokens).
	List(ctx context.Context, userID string) ([]Session, error)
	// RevokeAll ends every session of userID and returns how many.
	RevokeAll(ctx context.Context, userID string) (int, error)
}

// Session is one login session.
type Session struct {
	// ID names the session in listings: the token's SHA-256 (base64url)
	// when tokens are stored hashed, else the token itself.
	ID string
	// Token is the bearer token; set only by Create.
	Token     string
	UserID    string
	Values    map[string]string
	CreatedAt time.Time
	ExpiresAt time.Time // millisecond precision
}

// SessionOptions configures a store. The zero value is usable.
type SessionOptions struct {
	// DefaultTTL replaces a zero TTL; default lucidkeys.SessionTTL.
	DefaultTTL time.Duration
	// TokenBytes is the random length of a token; default and minimum 32.
	TokenBytes int
	// HashTokens stores only SHA-256 of each token, so a copy of the
	// database does not hold usable tokens.
	HashTokens bool
}

// MaxSessionValuesSize bounds the encoded values of one session.
const MaxSessionValuesSize = 64 << 10

type sessionCore struct {
	ttl    time.Duration
	nbytes int
	hashed bool
}

func newSessionCore(o SessionOptions) (*sessionCore, error) {
	c := &sessionCore{ttl: o.DefaultTTL, nbytes: o.TokenBytes, hashed: o.HashTokens}
	if c.ttl == 0 {
		c.ttl = lucidkeys.SessionTTL
	}
	if c.ttl < time.Millisecond {
		return nil, invalidf("session default TTL %v: want at least 1ms", c.ttl)
	}
	if c.nbytes == 0 {
		c.nbytes = 32
	}
	if c.nbytes < 32 || c.nbytes > 256 {
		return nil, invalidf("session token of %d bytes: want 32..256", c.nbytes)
	}
	return c, nil
}

func (c *sessionCore) sessTTL(ttl time.Duration) (time.Duration, error) {
	switch {
	case ttl == 0:
		return c.ttl, nil
	case ttl < time.Millisecond:
		return 0, invalidf("session TTL %v: want 0 (default) or at least 1ms; sessions always expire", ttl)
	}
	return ttl, nil
}

func (c *sessionCore) newToken() (token, id string) {
	b := make([]byte, c.nbytes)
	_, _ = rand.Read(b)
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, c.idOf(token)
}

func (c *sessionCore) idOf(token string) string {
	if !c.hashed {
		return token
	}
	h := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// tokenKey validates token and returns its session id and key.
func (c *sessionCore) tokenKey(token string) (id, key string, err error) {
	if len(token) < 43 || len(token) > 400 {
		return "", "", invalidf("session token of %d bytes is malformed", len(token))
	}
	if _, err := base64.RawURLEncoding.DecodeString(token); err != nil {
		return "", "", invalidf("session token is not base64url")
	}
	id = c.idOf(token)
	k, err := lucidkeys.NewKey(lucidkeys.ServiceSession, "token", id)
	if err != nil {
		return "", "", fmt.Errorf("cache: session: %w: %w", ErrInvalid, err)
	}
	return id, k.String(), nil
}

func sessionKey(id string) string {
	return lucidkeys.Key{Service: lucidkeys.ServiceSession, Entity: "token", ID: id}.String()
}

func userIndexKey(userID string) (string, error) {
	k, err := lucidkeys.NewTaggedKey(lucidkeys.ServiceSession, "user", userID, "")
	if err != nil {
		return "", fmt.Errorf("cache: session user: %w: %w", ErrInvalid, err)
	}
	return k.String(), nil
}

// stored is the session record; the first byte of the value is its version.
type stored struct {
	User    string            `json:"u"`
	Values  map[string]string `json:"v,omitempty"`
	Created int64             `json:"c"` // unix ms
}

const sessionVersion = 1

func encodeSession(s stored) ([]byte, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("cache: session: %w: %w", ErrInvalid, err)
	}
	if len(b) > MaxSessionValuesSize {
		return nil, invalidf("session values are %d bytes encoded, more than %d", len(b), MaxSessionValuesSize)
	}
	return append([]byte{sessionVersion}, b...), nil
}

func decodeSession(id string, b []byte, pttl time.Duration, now time.Time) (Session, error) {
	var s stored
	if len(b) == 0 || b[0] != sessionVersion {
		return Session{}, fmt.Errorf("cache: session: unknown record version: %w", ErrCorrupt)
	}
	if err := json.Unmarshal(b[1:], &s); err != nil {
		return Session{}, fmt.Errorf("cache: session: %w: %w", ErrCorrupt, err)
	}
	return Session{ID: id, UserID: s.User, Values: s.Values, CreatedAt: time.UnixMilli(s.Created), ExpiresAt: now.Add(pttl).Truncate(time.Millisecond)}, nil
}

// indexAddScript adds ARGV[1] to the user's index and makes the index
// live at least ARGV[2] ms.
var indexAddScript = redis.NewScript(`
redis.call('SADD', KEYS[1], ARGV[1])
local p = redis.call('PTTL', KEYS[1])
if p >= 0 and p < tonumber(ARGV[2]) or p == -1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1`)

var extendScript = redis.NewScript(`
if redis.call('PEXPIRE', KEYS[1], ARGV[1]) == 1 then return redis.call('GET', KEYS[1]) end
return false`)

// RedisSessions is the Redis implementation of SessionStore.
type RedisSessions struct {
	rdb redis.UniversalClient
	*sessionCore
}

var _ SessionStore = (*RedisSessions)(nil)

// NewRedisSessions returns a SessionStore on rdb.
func NewRedisSessions(rdb redis.UniversalClient, opts SessionOptions) (*RedisSessions, error) {
	if rdb == nil {
		return nil, invalidf("redis client is nil")
	}
	core, err := newSessionCore(opts)
	if err != nil {
		return nil, err
	}
	return &RedisSessions{rdb: rdb, sessionCore: core}, nil
}

// Create implements SessionStore.
func (s *RedisSessions) Create(ctx context.Context, userID string, values map[string]string, ttl time.Duration) (Session, error) {
	idx, err := userIndexKey(userID)
	if err != nil {
		return Session{}, err
	}
	if ttl, err = s.sessTTL(ttl); err != nil {
		return Session{}, err
	}
	now := time.Now()
	rec, err := encodeSession(stored{User: userID, Values: values, Created: now.UnixMilli()})
	if err != nil {
		return Session{}, err
	}
	token, id := s.newToken()
	// Index first: the index must never miss a live session.
	if err := indexAddScript.Run(ctx, s.rdb, []string{idx}, id, ttl.Milliseconds()).Err(); err != nil {
		return Session{}, wrapErr(ctx, "session create", err)
	}
	if err := s.rdb.Set(ctx, sessionKey(id), rec, ttl).Err(); err != nil {
		return Session{}, wrapErr(ctx, "session create", err)
	}
	return Session{ID: id, Token: token, UserID: userID, Values: values, CreatedAt: time.UnixMilli(now.UnixMilli()), ExpiresAt: now.Add(ttl)}, nil
}

func (s *RedisSessions) load(ctx context.Context, id string) (Session, error) {
	key := sessionKey(id)
	var get *redis.StringCmd
	var pttl *redis.DurationCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		get, pttl = p.Get(ctx, key), p.PTTL(ctx, key)
		return nil
	})
	if err != nil {
		return Session{}, wrapErr(ctx, "session get", err)
	}
	b, _ := get.Bytes()
	return decodeSession(id, b, pttl.Val(), time.Now())
}

// Get implements SessionStore.
func (s *RedisSessions) Get(ctx context.Context, token string) (Session, error) {
	id, _, err := s.tokenKey(token)
	if err != nil {
		return Session{}, err
	}
	return s.load(ctx, id)
}

// Extend implements SessionStore.
func (s *RedisSessions) Extend(ctx context.Context, token string, ttl time.Duration) error {
	id, key, err := s.tokenKey(token)
	if err != nil {
		return err
	}
	if ttl, err = s.sessTTL(ttl); err != nil {
		return err
	}
	b, err := extendScript.Run(ctx, s.rdb, []string{key}, ttl.Milliseconds()).Text()
	if err != nil {
		return wrapErr(ctx, "session extend", err)
	}
	sess, err := decodeSession(id, []byte(b), ttl, time.Now())
	if err != nil {
		return err
	}
	idx, err := userIndexKey(sess.UserID)
	if err != nil {
		return err
	}
	return wrapErr(ctx, "session extend", indexAddScript.Run(ctx, s.rdb, []string{idx}, id, ttl.Milliseconds()).Err())
}

// Delete implements SessionStore.
func (s *RedisSessions) Delete(ctx context.Context, token string) error {
	id, key, err := s.tokenKey(token)
	if err != nil {
		return err
	}
	b, err := s.rdb.GetDel(ctx, key).Bytes()
	if err != nil {
		return wrapErr(ctx, "session delete", err)
	}
	sess, err := decodeSession(id, b, 0, time.Now())
	if err != nil {
		return err
	}
	idx, err := userIndexKey(sess.UserID)
	if err != nil {
		return err
	}
	return wrapErr(ctx, "session delete", s.rdb.SRem(ctx, idx, id).Err())
}

// List implements SessionStore.
func (s *RedisSessions) List(ctx context.Context, userID string) ([]Session, error) {
	idx, err := userIndexKey(userID)
	if err != nil {
		return nil, err
	}
	ids, err := s.rdb.SMembers(ctx, idx).Result()
	if err != nil {
		return nil, wrapErr(ctx, "session list", err)
	}
	var out []Session
	var stale []any
	for _, id := range ids {
		sess, err := s.load(ctx, id)
		switch {
		case errors.Is(err, ErrNotFound):
			stale = append(stale, id)
		case err != nil:
			return nil, err
		case sess.UserID == userID:
			out = append(out, sess)
		}
	}
	if len(stale) > 0 {
		if err := s.rdb.SRem(ctx, idx, stale...).Err(); err != nil {
			return nil, wrapErr(ctx, "session list", err)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out, nil
}

// RevokeAll implements SessionStore.
func (s *RedisSessions) RevokeAll(ctx context.Context, userID string) (int, error) {
	idx, err := userIndexKey(userID)
	if err != nil {
		return 0, err
	}
	ids, err := s.rdb.SMembers(ctx, idx).Result()
	if err != nil || len(ids) == 0 {
		return 0, wrapErr(ctx, "session revoke", err)
	}
	dels := make([]*redis.IntCmd, len(ids))
	// One DEL per key: session keys live in different Cluster slots.
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			dels[i] = p.Del(ctx, sessionKey(id))
		}
		return nil
	})
	if err != nil {
		return 0, wrapErr(ctx, "session revoke", err)
	}
	n := 0
	members := make([]any, len(ids))
	for i, id := range ids {
		n += int(dels[i].Val())
		members[i] = id
	}
	return n, wrapErr(ctx, "session revoke", s.rdb.SRem(ctx, idx, members...).Err())
}
