package lucidkeys

import "strings"

// IndexKind is the last segment of a MongoDB index name. It says what the
// index is for, so a drift report can show "users_email_unique" and an
// operator knows what it enforces without reading its key document.
type IndexKind string

// Index kinds used in index names.
const (
	IndexUnique   IndexKind = "unique"   // unique constraint
	IndexCompound IndexKind = "compound" // several fields, for complex queries
	IndexText     IndexKind = "text"     // full-text search
	IndexTTL      IndexKind = "ttl"      // expires documents automatically
	IndexAsc      IndexKind = "asc"      // single field, ascending
	IndexDesc     IndexKind = "desc"     // single field, descending
	IndexHashed   IndexKind = "hashed"   // hashed, for hashed shard keys
	Index2dsphere IndexKind = "2dsphere" // geospatial
)

// MaxIndexNameLen is the longest index name IndexName builds. MongoDB before
// 4.2 limited the full index namespace, and 127 bytes keeps names readable
// and portable to MongoDB-compatible servers with older limits.
const MaxIndexNameLen = 127

// Valid reports whether k is one of the known index kinds.
func (k IndexKind) Valid() bool {
	switch k {
	case IndexUnique, IndexCompound, IndexText, IndexTTL, IndexAsc, IndexDesc, IndexHashed, Index2dsphere:
		return true
	}
	return false
}

// String returns the kind's name, e.g. "unique".
func (k IndexKind) String() string { return string(k) }

// IndexName returns the name of an index on coll, following the convention
// {collection}_{field}_{type}, e.g. IndexName(CollUsers, "email", IndexUnique)
// is "users_email_unique".
//
// field is one or more dot-separated segments of [a-z0-9_]; a nested path
// such as "device.serial" becomes "device_serial" in the name, because index
// names are flat. For a compound index the caller joins the field names with
// "_" (e.g. "user_id_created_at"). Since dots are not kept, ParseIndexName
// returns the field with underscores.
func IndexName(coll Collection, field string, kind IndexKind) (string, error) {
	if !coll.Valid() {
		return "", invalidf("index name: unknown collection %q", coll)
	}
	if !kind.Valid() {
		return "", invalidf("index name: unknown index kind %q", kind)
	}
	if err := checkIndexField(field, true); err != nil {
		return "", err
	}
	name := string(coll) + "_" + strings.ReplaceAll(field, ".", "_") + "_" + string(kind)
	if len(name) > MaxIndexNameLen {
		return "", invalidf("index name %q is %d bytes, longer than %d", name, len(name), MaxIndexNameLen)
	}
	return name, nil
}

// checkIndexField validates a field path: non-empty segments of [a-z0-9_],
// separated by dots when dots is set.
func checkIndexField(field string, dots bool) error {
	if field == "" {
		return invalidf("index field is empty")
	}
	if len(field) > MaxIndexNameLen {
		return invalidf("index field is %d bytes, longer than %d", len(field), MaxIndexNameLen)
	}
	prev := byte('.')
	for i := 0; i < len(field); i++ {
		c := field[i]
		switch {
		case isLowerAlnum(c) || c == '_':
		case c == '.' && dots:
			if prev == '.' {
				return invalidf("index field %q has an empty path segment at offset %d", field, i)
			}
		default:
			return invalidf("index field %q has byte %q at offset %d; allowed are a-z 0-9 _ and . between segments", field, c, i)
		}
		prev = c
	}
	if prev == '.' {
		return invalidf("index field %q ends with an empty path segment", field)
	}
	return nil
}

// ParseIndexName splits an index name built by IndexName into its parts.
// Collection names contain underscores, so the collection is the longest
// known collection name followed by "_"; the kind is the last "_"-separated
// segment; the field is what lies between (with underscores, never dots).
// IndexName(ParseIndexName(name)) returns name again.
func ParseIndexName(name string) (coll Collection, field string, kind IndexKind, err error) {
	if len(name) > MaxIndexNameLen {
		return "", "", "", invalidf("index name is %d bytes, longer than %d", len(name), MaxIndexNameLen)
	}
	for _, c := range Collections() {
		if strings.HasPrefix(name, string(c)+"_") && len(c) > len(coll) {
			coll = c
		}
	}
	if coll == "" {
		return "", "", "", invalidf("index name %q does not start with a known collection and \"_\"", name)
	}
	rest := name[len(coll)+1:]
	i := strings.LastIndexByte(rest, '_')
	if i < 0 {
		return "", "", "", invalidf("index name %q has no index kind after the field", name)
	}
	kind = IndexKind(rest[i+1:])
	if !kind.Valid() {
		return "", "", "", invalidf("index name %q ends with unknown index kind %q", name, kind)
	}
	field = rest[:i]
	if err := checkIndexField(field, false); err != nil {
		return "", "", "", err
	}
	return coll, field, kind, nil
}
