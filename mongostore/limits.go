package mongostore

import (
	"strings"

	"github.com/HamiGames/lucid-data/lucidkeys"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// MaxDocumentSize is the largest BSON document MongoDB stores (16 MiB).
// Inserts, replacements and updates larger than this are refused with
// ErrInvalid before anything is sent: mongod refuses them too, but FerretDB
// accepts them, so without the check code tested on FerretDB would fail
// only in production.
const MaxDocumentSize = 16 << 20

// AllFilter is the type of All. Every AllFilter value matches every
// document.
type AllFilter string

// All is the filter that matches every document of a collection. A nil or
// empty filter (nil, bson.D{}, bson.M{}, a struct that encodes to {}, the
// nil bson.D of an ignored Filter.Build error) is refused with ErrInvalid by
// every call that takes a filter, so "all documents" is always written out:
//
//	n, err := db.Count(ctx, lucidkeys.CollUsers, mongostore.All)
//	_, err = db.UpdateMany(ctx, lucidkeys.CollUsers, mongostore.All, bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: "active"}}}})
const All AllFilter = "all documents"

// MarshalBSON encodes All as the empty document, so All handed to the
// driver directly means the same as it does here.
func (AllFilter) MarshalBSON() ([]byte, error) { return bson.Marshal(bson.D{}) }

// emptyDoc is the BSON encoding of {}: a length and a terminator.
const emptyDocLen = 5

// checkFilter returns the filter to send: All becomes {}, a *Filter its
// built document (or its error), and a nil or empty filter is ErrInvalid.
func checkFilter(op string, filter any) (any, error) {
	switch f := filter.(type) {
	case nil:
		return nil, invalidf(op, "filter is nil: pass mongostore.All to match every document")
	case AllFilter:
		return bson.D{}, nil
	case *Filter:
		if f == nil {
			return nil, invalidf(op, "filter is a nil *Filter")
		}
		d, err := f.Build()
		if err != nil {
			return nil, err
		}
		filter = d
	}
	switch f := filter.(type) {
	case bson.D:
		if len(f) > 0 {
			return f, nil
		}
	case bson.M:
		if len(f) > 0 {
			return f, nil
		}
	case map[string]any:
		if len(f) > 0 {
			return f, nil
		}
	default:
		raw, err := toRaw(op, filter)
		if err != nil {
			return nil, err
		}
		if len(raw) > emptyDocLen {
			return raw, nil
		}
	}
	return nil, invalidf(op, "filter is empty (a Filter.Build error ignored?): pass mongostore.All to match every document")
}

// checkSize refuses a document or update larger than MaxDocumentSize.
func checkSize(op string, raw bson.Raw) error {
	if len(raw) > MaxDocumentSize {
		return invalidf(op, "document of %d bytes exceeds the %d-byte (16 MiB) BSON limit", len(raw), MaxDocumentSize)
	}
	return nil
}

// checkCollName refuses names MongoDB cannot hold: empty (the driver sends
// it and the server answers InvalidNamespace), with NUL or '$'.
func checkCollName(op string, coll lucidkeys.Collection) error {
	switch {
	case coll == "":
		return invalidf(op, "collection name is empty")
	case strings.ContainsAny(string(coll), "\x00$"):
		return invalidf(op, "collection name %q holds NUL or '$'", string(coll))
	}
	return nil
}

// collFor checks the collection name and returns the driver's handle.
func (d *DB) collFor(op string, coll lucidkeys.Collection) (*mongo.Collection, error) {
	if err := checkCollName(op, coll); err != nil {
		return nil, err
	}
	return d.coll(string(coll)), nil
}

// target checks the collection name and the filter of a call.
func (d *DB) target(op string, coll lucidkeys.Collection, filter any) (*mongo.Collection, any, error) {
	c, err := d.collFor(op, coll)
	if err != nil {
		return nil, nil, err
	}
	f, err := checkFilter(op, filter)
	if err != nil {
		return nil, nil, err
	}
	return c, f, nil
}
