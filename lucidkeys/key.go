package lucidkeys

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Well-known services, the second segment of a Redis key.
const (
	ServiceSession   = "session"   // session tokens and per-user session indexes
	ServiceRateLimit = "ratelimit" // rate limiter windows
	ServiceCache     = "cache"     // cached values
	ServiceLock      = "lock"      // distributed locks
	ServicePubSub    = "pubsub"    // publish/subscribe channels and streams
)

// Limits on Redis key segments. They keep keys short enough to be cheap in
// memory and readable in MONITOR output, far below Redis's 512 MB limit.
const (
	MaxKeySegmentLen = 64   // service and entity
	MaxKeyTagLen     = 128  // hash tag
	MaxKeyIDLen      = 512  // id
	MaxKeyLen        = 1024 // whole key
)

// keyPrefix starts every Lucid key, so a Redis shared with other software
// can be scanned for Lucid keys only.
const keyPrefix = "lucid:"

// Key is a Redis key of the form lucid:{service}:{entity}:{id}, e.g.
// "lucid:session:token:abc123".
//
// Service and entity match [a-z0-9_-]+ (at most 64 bytes each). ID is
// non-empty, at most 512 bytes of printable UTF-8 without whitespace, and may
// contain ':' (a parser splits on the first three colons only). ID must not
// contain '{' or '}', so that it can never create a Redis Cluster hash tag
// by accident.
//
// # Hash tags
//
// Redis Cluster stores keys in 16384 slots and a multi-key command or script
// works only on keys of one slot. When several keys must meet in one slot
// (a user's session tokens and that user's session index, say), give them the
// same Tag. A tagged key renders as
//
//	lucid:{service}:{entity}:{<tag>}:{id}   (with an id)
//	lucid:{service}:{entity}:{<tag>}        (without one)
//
// for example "lucid:session:token:{user42}:abc123" and
// "lucid:session:index:{user42}". Service and entity cannot hold a brace, so
// the tag's '{' is the first in the key and Redis hashes exactly the tag
// (see HashTag and Slot). A tag follows the ID rules and is at most 128 bytes;
// a tagged key's ID may be empty.
//
// The fields are exported so keys can be compared and used as map keys. A Key
// from NewKey, NewTaggedKey or ParseKey is valid; call Validate on one built
// as a literal.
type Key struct {
	Service string // e.g. ServiceSession
	Entity  string // what the key holds, e.g. "token"
	ID      string // which one, e.g. a token or user id
	Tag     string // Redis Cluster hash tag; empty for an untagged key
}

// NewKey returns the untagged key lucid:{service}:{entity}:{id}, or an error
// saying which segment breaks which rule.
func NewKey(service, entity, id string) (Key, error) {
	k := Key{Service: service, Entity: entity, ID: id}
	if err := k.Validate(); err != nil {
		return Key{}, err
	}
	return k, nil
}

// NewTaggedKey returns a key whose hash slot is decided by tag alone, so
// every key built with the same tag lands in the same Redis Cluster slot.
// tag must be non-empty; id may be empty (see Key).
func NewTaggedKey(service, entity, tag, id string) (Key, error) {
	if tag == "" {
		return Key{}, invalidf("key tag is empty; use NewKey for an untagged key")
	}
	k := Key{Service: service, Entity: entity, ID: id, Tag: tag}
	if err := k.Validate(); err != nil {
		return Key{}, err
	}
	return k, nil
}

// MustKey is like NewKey but panics on invalid input. It is meant for
// constant inputs in tests and examples, where a panic is a programming error.
func MustKey(service, entity, id string) Key {
	k, err := NewKey(service, entity, id)
	if err != nil {
		panic(err)
	}
	return k
}

// Validate reports whether every segment of k follows the rules of Key.
func (k Key) Validate() error {
	if err := checkToken("key service", k.Service, MaxKeySegmentLen, false); err != nil {
		return err
	}
	if err := checkToken("key entity", k.Entity, MaxKeySegmentLen, false); err != nil {
		return err
	}
	if k.Tag != "" {
		if err := checkKeyText("key tag", k.Tag, MaxKeyTagLen); err != nil {
			return err
		}
		if k.ID != "" {
			if err := checkKeyText("key id", k.ID, MaxKeyIDLen); err != nil {
				return err
			}
		}
	} else {
		if k.ID == "" {
			return invalidf("key id is empty")
		}
		if err := checkKeyText("key id", k.ID, MaxKeyIDLen); err != nil {
			return err
		}
	}
	if n := k.len(); n > MaxKeyLen {
		return invalidf("key is %d bytes, longer than %d", n, MaxKeyLen)
	}
	return nil
}

// checkKeyText validates an id or tag: non-empty, at most max bytes of
// printable UTF-8 with no whitespace, no control or format characters and
// no braces.
func checkKeyText(what, s string, max int) error {
	if s == "" {
		return invalidf("%s is empty", what)
	}
	if len(s) > max {
		return invalidf("%s is %d bytes, longer than %d", what, len(s), max)
	}
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			return invalidf("%s %q is not valid UTF-8 at offset %d", what, s, i)
		case r == '{' || r == '}':
			return invalidf("%s %q has a brace at offset %d; braces would form a Redis Cluster hash tag", what, s, i)
		case r == ' ' || !unicode.IsPrint(r):
			return invalidf("%s %q has whitespace or a non-printable character %U at offset %d", what, s, r, i)
		}
	}
	return nil
}

func (k Key) len() int {
	n := len(keyPrefix) + len(k.Service) + 1 + len(k.Entity) + 1 + len(k.ID)
	if k.Tag != "" {
		n += len(k.Tag) + 2
		if k.ID != "" {
			n++
		}
	}
	return n
}

// String returns the key as stored in Redis. It does not validate: a Key
// built as a literal with bad fields renders as is (see Validate).
func (k Key) String() string {
	var b strings.Builder
	b.Grow(k.len())
	b.WriteString(keyPrefix)
	b.WriteString(k.Service)
	b.WriteByte(':')
	b.WriteString(k.Entity)
	b.WriteByte(':')
	if k.Tag != "" {
		b.WriteByte('{')
		b.WriteString(k.Tag)
		b.WriteByte('}')
		if k.ID == "" {
			return b.String()
		}
		b.WriteByte(':')
	}
	b.WriteString(k.ID)
	return b.String()
}

// HashTag returns the part of the key that Redis Cluster hashes to pick a
// slot: the tag for a tagged key, the whole key otherwise.
func (k Key) HashTag() string {
	return hashPart(k.String())
}

// Slot returns the Redis Cluster slot of the key; see the function Slot.
func (k Key) Slot() uint16 {
	return Slot(k.String())
}

// ParseKey parses a key in the form String renders, tagged or not, and
// validates every segment. ParseKey(k.String()) returns k for every valid k.
func ParseKey(s string) (Key, error) {
	if len(s) > MaxKeyLen {
		return Key{}, invalidf("key is %d bytes, longer than %d", len(s), MaxKeyLen)
	}
	rest, ok := strings.CutPrefix(s, keyPrefix)
	if !ok {
		return Key{}, invalidf("key %q does not start with %q", s, keyPrefix)
	}
	service, rest, ok := strings.Cut(rest, ":")
	if !ok {
		return Key{}, invalidf("key %q has no entity segment", s)
	}
	entity, rest, ok := strings.Cut(rest, ":")
	if !ok {
		return Key{}, invalidf("key %q has no id segment", s)
	}
	k := Key{Service: service, Entity: entity, ID: rest}
	if strings.HasPrefix(rest, "{") {
		end := strings.IndexByte(rest, '}')
		if end < 0 {
			return Key{}, invalidf("key %q has an unclosed hash tag", s)
		}
		k.Tag, k.ID = rest[1:end], rest[end+1:]
		if k.Tag == "" {
			return Key{}, invalidf("key %q has an empty hash tag", s)
		}
		if k.ID != "" {
			id, ok := strings.CutPrefix(k.ID, ":")
			if !ok || id == "" {
				return Key{}, invalidf("key %q must have \":\" and an id after its hash tag, or nothing", s)
			}
			k.ID = id
		}
	}
	if err := k.Validate(); err != nil {
		return Key{}, err
	}
	return k, nil
}

// KeyPrefix returns "lucid:{service}:{entity}:", the prefix shared by all
// keys of one entity, for building keys by hand or matching SCAN results.
func KeyPrefix(service, entity string) (string, error) {
	if err := checkToken("key service", service, MaxKeySegmentLen, false); err != nil {
		return "", err
	}
	if err := checkToken("key entity", entity, MaxKeySegmentLen, false); err != nil {
		return "", err
	}
	return keyPrefix + service + ":" + entity + ":", nil
}

// Pattern returns "lucid:{service}:{entity}:*", a SCAN MATCH pattern for all
// keys of one entity, tagged or not. Service and entity cannot hold glob
// metacharacters (* ? [ ] \), so the pattern matches nothing else.
func Pattern(service, entity string) (string, error) {
	p, err := KeyPrefix(service, entity)
	if err != nil {
		return "", err
	}
	return p + "*", nil
}

// hashPart returns what Redis Cluster hashes for key: the bytes between the
// first '{' and the next '}' when that is non-empty, else the whole key.
func hashPart(key string) string {
	if s := strings.IndexByte(key, '{'); s >= 0 {
		if e := strings.IndexByte(key[s+1:], '}'); e > 0 {
			return key[s+1 : s+1+e]
		}
	}
	return key
}

// NumSlots is the number of Redis Cluster hash slots.
const NumSlots = 16384

// Slot returns the Redis Cluster hash slot of key: CRC16 (XMODEM) of the
// hashed part mod 16384, exactly as Redis computes it, so a client can tell
// before sending whether keys share a slot. key may be any string, not only a
// Lucid key.
func Slot(key string) uint16 {
	return crc16(hashPart(key)) % NumSlots
}

// crc16 is CRC-16/XMODEM (polynomial 0x1021, initial value 0), the checksum
// Redis Cluster uses. Bitwise, because keys are short and a table would be a
// package-level variable.
func crc16(s string) uint16 {
	var crc uint16
	for i := 0; i < len(s); i++ {
		crc ^= uint16(s[i]) << 8
		for j := 0; j < 8; j++ {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}
