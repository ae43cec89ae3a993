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

// SessionStore keeps login sessions behind opaque bearer tokens: who is
// logged in, for how long (not the resumable upload sessions of packages
// mongostore and search). Tokens are stored only as SHA-256 unless
// SessionOptions.PlaintextTokens says otherwise; Session.ID, the name
// listings show, is always the hash, never the token.
//
// # Revocation guarantee
//
// Once RevokeAll(user) returns without error, no session of user whose
// Create returned before RevokeAll was called is valid any more, whatever
// other calls ran concurrently, on a single node and on a Cluster. A Create
// that runs concurrently with RevokeAll either is revoked by it or leaves a
// session that List shows and the next RevokeAll revokes: a session is
// never valid without being listed.
//
// # Keys and Redis Cluster
//
// A session lives at lucid:session:token:{s<hhhh>}:<id> and its user's
// index set at lucid:session:user:{s<hhhh>}:<user>, where hhhh is the hex
// of the first two bytes of SHA-256(user). Each token begins with those two
// bytes (followed by TokenBytes random bytes), so Get finds the session from
// the token alone while a session and its user's index share one hash tag,
// one Cluster slot. That makes Create (the session and its index entry)
// and RevokeAll (delete the listed sessions and unlist exactly those) one
// Lua script each, atomic on every deployment. The two bytes tell a token's
// bearer 16 bits of a hash of the user id the session already names.
//
// Tokens issued before this layout (lucid:session:token:<id>, index tagged
// by the user id) find no session under it: upgrading ends such sessions
// once, as their 15-minute default lifetime would.
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
	// ID names the session in listings and logs: the base64url SHA-256 of
	// its token. It never equals or contains the token and cannot be used
	// as one.
	ID string
	// Token is the bearer token; set only by Create. The store never
	// lists, logs or quotes it in an error, and stores only its hash
	// unless SessionOptions.PlaintextTokens says otherwise.
	Token     string
	UserID    string
	Values    map[string]string
	CreatedAt time.Time
	ExpiresAt time.Time // millisecond precision
}

// SessionOptions configures a store. The zero value is usable.
type SessionOptions struct {
	// DefaultTTL replaces a zero TTL; default lucidkeys.SessionTTL, at
	// most MaxSessionTTL.
	DefaultTTL time.Duration
	// TokenBytes is the random length of a token; default and minimum 32.
	TokenBytes int
	// PlaintextTokens stores each token itself as its session's key
	// instead of its SHA-256 (the default). Opt out of hashing only to
	// keep reading sessions written that way: anyone who can read the
	// keys (a replica, a backup, an RDB file, a MONITOR or SCAN session)
	// then holds usable bearer tokens. Session.ID is SHA-256(token) either
	// way, so listings never show a token.
	PlaintextTokens bool
}

// MaxSessionTTL caps a session's lifetime (Create, Extend and
// DefaultTTL; ErrInvalid above it). A token is a bearer secret: the
// longer it lives, the longer a leaked one is a login. Thirty days covers
// the longest usual "remember me"; a session meant to last longer should
// be renewed with Extend (a sliding expiry), which keeps an idle one
// expiring.
const MaxSessionTTL = 30 * 24 * time.Hour

// MaxSessionValuesSize bounds the encoded values of one session.
const MaxSessionValuesSize = 64 << 10

type sessionCore struct {
	ttl    time.Duration
	nbytes int
	hashed bool
}

func newSessionCore(o SessionOptions) (*sessionCore, error) {
	c := &sessionCore{ttl: o.DefaultTTL, nbytes: o.TokenBytes, hashed: !o.PlaintextTokens}
	if c.ttl == 0 {
		c.ttl = lucidkeys.SessionTTL
	}
	if c.ttl < time.Millisecond || c.ttl > MaxSessionTTL {
		return nil, invalidf("session default TTL %v: want 1ms..MaxSessionTTL (%v)", c.ttl, MaxSessionTTL)
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
	case ttl > MaxSessionTTL:
		return 0, invalidf("session TTL %v: more than MaxSessionTTL (%v)", ttl, MaxSessionTTL)
	}
	return ttl, nil
}

// userTag is the hash tag a user's sessions and index share: "s" and the
// hex of the first two bytes of SHA-256(user).
func userTag(userID string) [2]byte {
	h := sha256.Sum256([]byte(userID))
	return [2]byte{h[0], h[1]}
}

func tagString(b [2]byte) string {
	const hexd = "0123456789abcdef"
	return string([]byte{'s', hexd[b[0]>>4], hexd[b[0]&15], hexd[b[1]>>4], hexd[b[1]&15]})
}

// newToken returns a token for userID: the user's two tag bytes, then
// c.nbytes random bytes, base64url.
func (c *sessionCore) newToken(userID string) (token, id string) {
	b := make([]byte, 2+c.nbytes)
	tag := userTag(userID)
	copy(b, tag[:])
	_, _ = rand.Read(b[2:])
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, c.idOf(token)
}

// idOf returns the id token's session is stored under: SHA-256(token),
// or the token itself with PlaintextTokens.
func (c *sessionCore) idOf(token string) string {
	if !c.hashed {
		return token
	}
	return hashToken(token)
}

// publicID returns the Session.ID of the session stored under id: always
// the token's hash, never the token.
func (c *sessionCore) publicID(id string) string {
	if !c.hashed {
		return hashToken(id)
	}
	return id
}

func hashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// tokenKey validates token and returns its session id and key.
func (c *sessionCore) tokenKey(token string) (id, key string, err error) {
	if len(token) < 43 || len(token) > 400 {
		return "", "", invalidf("session token of %d bytes is malformed", len(token))
	}
	var head [3]byte // the first 4 characters hold the two tag bytes
	if _, err := base64.RawURLEncoding.Decode(head[:], []byte(token[:4])); err != nil || !isBase64URL(token) {
		return "", "", invalidf("session token is not base64url")
	}
	id = c.idOf(token)
	return id, sessionKey(tagString([2]byte{head[0], head[1]}), id), nil
}

// isBase64URL reports whether s holds only the unpadded base64url alphabet
// and has a length such an encoding can have.
func isBase64URL(s string) bool {
	if len(s)%4 == 1 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch b := s[i]; {
		case 'A' <= b && b <= 'Z', 'a' <= b && b <= 'z', '0' <= b && b <= '9', b == '-', b == '_':
		default:
			return false
		}
	}
	return true
}

// sessionKey is lucid:session:token:{tag}:id. id is a token or its hash,
// both base64url, so the key is always valid.
func sessionKey(tag, id string) string {
	return lucidkeys.Key{Service: lucidkeys.ServiceSession, Entity: "token", Tag: tag, ID: id}.String()
}

// userIndexKey validates userID and returns its index key and hash tag.
func userIndexKey(userID string) (key, tag string, err error) {
	// The user id was the index key's hash tag before; its limits stay.
	if _, err := lucidkeys.NewTaggedKey(lucidkeys.ServiceSession, "user", userID, ""); err != nil {
		return "", "", fmt.Errorf("cache: session user: %w: %w", ErrInvalid, err)
	}
	tag = tagString(userTag(userID))
	return lucidkeys.Key{Service: lucidkeys.ServiceSession, Entity: "user", Tag: tag, ID: userID}.String(), tag, nil
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

// Scripts. A session and its user's index share a hash tag (one slot).
var (
	// createScript writes the session KEYS[1] (record ARGV[1], living
	// ARGV[2] ms) and lists its id ARGV[3] in the index KEYS[2], which it
	// keeps alive at least as long: both or neither.
	createScript = redis.NewScript(`
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
local p = redis.call('PTTL', KEYS[2])
if p == -1 or p < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
return 1`)
	// indexAddScript lists ARGV[1] in the index KEYS[1] and keeps the
	// index alive at least ARGV[2] ms.
	indexAddScript = redis.NewScript(`
redis.call('SADD', KEYS[1], ARGV[1])
local p = redis.call('PTTL', KEYS[1])
if p == -1 or p < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1`)
	// revokeScript deletes the sessions KEYS[2..] and unlists their ids
	// ARGV[1..] from the index KEYS[1]; it returns how many existed.
	revokeScript = redis.NewScript(`
local n = 0
for i = 2, #KEYS do
  n = n + redis.call('DEL', KEYS[i])
  redis.call('SREM', KEYS[1], ARGV[i-1])
end
return n`)
	extendScript = redis.NewScript(`
if redis.call('PEXPIRE', KEYS[1], ARGV[1]) == 1 then return redis.call('GET', KEYS[1]) end
return false`)
)

// revokeBatch bounds the keys of one revokeScript call.
const revokeBatch = 256

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

// Create implements SessionStore. The session and its index entry are
// written by one script: there is no moment at which one exists without
// the other.
func (s *RedisSessions) Create(ctx context.Context, userID string, values map[string]string, ttl time.Duration) (Session, error) {
	idx, tag, err := userIndexKey(userID)
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
	token, id := s.newToken(userID)
	if err := createScript.Run(ctx, s.rdb, []string{sessionKey(tag, id), idx}, rec, ttl.Milliseconds(), id).Err(); err != nil {
		return Session{}, wrapErr(ctx, "session create", err)
	}
	return Session{ID: s.publicID(id), Token: token, UserID: userID, Values: values, CreatedAt: time.UnixMilli(now.UnixMilli()), ExpiresAt: now.Add(ttl)}, nil
}

func (s *RedisSessions) load(ctx context.Context, id, key string) (Session, error) {
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
	return decodeSession(s.publicID(id), b, pttl.Val(), time.Now())
}

// Get implements SessionStore.
func (s *RedisSessions) Get(ctx context.Context, token string) (Session, error) {
	id, key, err := s.tokenKey(token)
	if err != nil {
		return Session{}, err
	}
	return s.load(ctx, id, key)
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
	idx, _, err := userIndexKey(sess.UserID)
	if err != nil {
		return err
	}
	// A RevokeAll between the two scripts leaves a stale id listed, which
	// List drops; it never leaves a live session unlisted.
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
	idx, _, err := userIndexKey(sess.UserID)
	if err != nil {
		return err
	}
	return wrapErr(ctx, "session delete", s.rdb.SRem(ctx, idx, id).Err())
}

// List implements SessionStore.
func (s *RedisSessions) List(ctx context.Context, userID string) ([]Session, error) {
	idx, tag, err := userIndexKey(userID)
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
		sess, err := s.load(ctx, id, sessionKey(tag, id))
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

// RevokeAll implements SessionStore. It reads the index, then deletes the
// listed sessions and unlists exactly those, each batch in one script: a
// session created after the read stays listed (see SessionStore).
func (s *RedisSessions) RevokeAll(ctx context.Context, userID string) (int, error) {
	idx, tag, err := userIndexKey(userID)
	if err != nil {
		return 0, err
	}
	ids, err := s.rdb.SMembers(ctx, idx).Result()
	if err != nil || len(ids) == 0 {
		return 0, wrapErr(ctx, "session revoke", err)
	}
	n := 0
	for len(ids) > 0 {
		batch := ids[:min(len(ids), revokeBatch)]
		ids = ids[len(batch):]
		keys := make([]string, 1, 1+len(batch))
		keys[0] = idx
		args := make([]any, len(batch))
		for i, id := range batch {
			keys = append(keys, sessionKey(tag, id))
			args[i] = id
		}
		d, err := revokeScript.Run(ctx, s.rdb, keys, args...).Int()
		if err != nil {
			return n, wrapErr(ctx, "session revoke", err)
		}
		n += d
	}
	return n, nil
}
