package mongostore_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/HamiGames/lucid-data/mongostore"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestInjectionAttempts: hostile filters and values from requests are
// refused with the error class a handler can map to 400, and plain values
// pass unchanged.
func TestInjectionAttempts(t *testing.T) {
	for _, c := range []struct {
		name   string
		filter any
		want   error // nil: accepted
	}{
		{"$where", bson.D{{Key: "$where", Value: "sleep(1000)"}}, mongostore.ErrInjection},
		{"$function", bson.D{{Key: "$expr", Value: bson.D{{Key: "$function", Value: bson.D{}}}}}, mongostore.ErrInjection},
		{"$regex from input", bson.D{{Key: "email", Value: bson.D{{Key: "$regex", Value: ".*"}}}}, mongostore.ErrInjection},
		{"unknown operator", bson.D{{Key: "a", Value: bson.D{{Key: "$foo", Value: 1}}}}, mongostore.ErrInjection},
		{"operator as field", bson.D{{Key: "a.$b", Value: 1}}, mongostore.ErrInjection},
		{"JavaScript value", bson.D{{Key: "a", Value: bson.JavaScript("1")}}, mongostore.ErrInjection},
		{"$where inside $or", bson.D{{Key: "$or", Value: bson.A{bson.D{{Key: "$where", Value: "1"}}}}}, mongostore.ErrInjection},
		{"empty segment", bson.D{{Key: "a..b", Value: 1}}, mongostore.ErrInvalid},
		{"too deep", deep(40), mongostore.ErrInvalid},
		{"comparisons", bson.D{{Key: "age", Value: bson.D{{Key: "$gte", Value: 18}, {Key: "$lt", Value: 65}}}}, nil},
		{"logic", bson.D{{Key: "$or", Value: bson.A{bson.D{{Key: "a", Value: 1}}, bson.D{{Key: "b", Value: bson.D{{Key: "$in", Value: bson.A{1, 2}}}}}}}}, nil},
		{"a $-string is a value", bson.D{{Key: "name", Value: "$where"}}, nil},
	} {
		_, err := mongostore.SanitizeFilter(c.filter)
		if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("SanitizeFilter %s: %v, want %v", c.name, err, c.want)
		}
	}

	// Values put in place of a literal by the filter builder.
	for _, c := range []struct {
		name  string
		value any
		want  error
	}{
		{"operator document", bson.M{"$ne": ""}, mongostore.ErrInjection},
		{"nested operator", bson.D{{Key: "a", Value: bson.A{bson.D{{Key: "$gt", Value: 1}}}}}, mongostore.ErrInjection},
		{"NUL in a key (BSON cannot encode it)", bson.D{{Key: "a\x00b", Value: 1}}, mongostore.ErrInvalid},
		{"string", "$ne", nil},
		{"plain document", bson.D{{Key: "a", Value: 1}}, nil},
	} {
		_, err := mongostore.NewFilter().Eq("email", c.value).Build()
		if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("Eq %s: %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := mongostore.NewFilter().Eq("$where", 1).Build(); !errors.Is(err, mongostore.ErrInjection) || !strings.Contains(err.Error(), "$where") {
		t.Errorf("Eq on field $where: %v", err)
	}
}

func deep(n int) bson.D {
	d := bson.D{{Key: "x", Value: 1}}
	for range n {
		d = bson.D{{Key: "$and", Value: bson.A{d}}}
	}
	return d
}
