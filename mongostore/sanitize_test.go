package mongostore_test

import (
	"errors"
	"reflect"
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
		_, err := mongostore.AllowListedFilter(c.filter)
		if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("AllowListedFilter %s: %v, want %v", c.name, err, c.want)
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

// TestRegexAndCodeValuesRefused (issue 18 §3): a regular expression or
// JavaScript reaching a filter as a value, from a bson type, raw BSON or
// extended JSON, is refused with ErrInjection; the deprecated and internal
// BSON types (on which FerretDB drops the connection) with ErrInvalid.
func TestRegexAndCodeValuesRefused(t *testing.T) {
	re := bson.Regex{Pattern: "^s3"}
	js := bson.JavaScript("while(1){}")
	cws := bson.CodeWithScope{Code: "x", Scope: bson.D{{Key: "a", Value: 1}}}
	ext := func(s string) bson.D {
		var d bson.D
		if err := bson.UnmarshalExtJSON([]byte(s), false, &d); err != nil {
			t.Fatalf("UnmarshalExtJSON %s: %v", s, err)
		}
		return d
	}
	rawRegex, _ := bson.Marshal(bson.D{{Key: "pw", Value: re}})
	for _, c := range []struct {
		name   string
		filter any
		want   error
	}{
		{"regex value", bson.D{{Key: "pw", Value: re}}, mongostore.ErrInjection},
		{"$regularExpression (ext JSON)", ext(`{"pw":{"$regularExpression":{"pattern":"^s3","options":""}}}`), mongostore.ErrInjection},
		{"regex in raw BSON", bson.Raw(rawRegex), mongostore.ErrInjection},
		{"regex in $in", bson.D{{Key: "email", Value: bson.D{{Key: "$in", Value: bson.A{bson.Regex{Pattern: ".*"}}}}}}, mongostore.ErrInjection},
		{"regex in $all", bson.D{{Key: "tags", Value: bson.D{{Key: "$all", Value: bson.A{re}}}}}, mongostore.ErrInjection},
		{"regex in $eq", bson.D{{Key: "pw", Value: bson.D{{Key: "$eq", Value: re}}}}, mongostore.ErrInjection},
		{"regex in $nin inside $or", bson.D{{Key: "$or", Value: bson.A{bson.D{{Key: "a", Value: bson.D{{Key: "$nin", Value: bson.A{re}}}}}}}}, mongostore.ErrInjection},
		{"regex in $elemMatch", bson.D{{Key: "a", Value: bson.D{{Key: "$elemMatch", Value: bson.D{{Key: "b", Value: re}}}}}}, mongostore.ErrInjection},
		{"regex in an array literal", bson.D{{Key: "a", Value: bson.A{1, re}}}, mongostore.ErrInjection},
		{"regex in a sub-document literal", bson.D{{Key: "a", Value: bson.D{{Key: "b", Value: re}}}}, mongostore.ErrInjection},
		{"JavaScript in $exists", bson.D{{Key: "a", Value: bson.D{{Key: "$exists", Value: js}}}}, mongostore.ErrInjection},
		{"code with scope in $exists", bson.D{{Key: "a", Value: bson.D{{Key: "$exists", Value: cws}}}}, mongostore.ErrInjection},
		{"$code (ext JSON) in $in", ext(`{"a":{"$in":[{"$code":"1"}]}}`), mongostore.ErrInjection},
		{"$symbol (ext JSON)", ext(`{"a":{"$symbol":"x"}}`), mongostore.ErrInvalid},
		{"$minKey in $gt", ext(`{"pw":{"$gt":{"$minKey":1}}}`), mongostore.ErrInvalid},
		{"$maxKey", bson.D{{Key: "a", Value: bson.MaxKey{}}}, mongostore.ErrInvalid},
		{"$undefined", ext(`{"a":{"$undefined":true}}`), mongostore.ErrInvalid},
		{"DBPointer", bson.D{{Key: "a", Value: bson.DBPointer{DB: "x", Pointer: bson.NewObjectID()}}}, mongostore.ErrInvalid},
		{"string that looks like a regex", bson.D{{Key: "pw", Value: "/^s3/"}}, nil},
		{"dates and ids", ext(`{"at":{"$gte":{"$date":"2026-01-01T00:00:00Z"}},"_id":{"$oid":"65f000000000000000000000"}}`), nil},
	} {
		_, err := mongostore.AllowListedFilter(c.filter)
		if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("AllowListedFilter %s: %v, want %v", c.name, err, c.want)
		}
		if errors.Is(c.want, mongostore.ErrInvalid) && !errors.Is(c.want, mongostore.ErrInjection) && errors.Is(err, mongostore.ErrInjection) {
			t.Errorf("AllowListedFilter %s: %v, want plain ErrInvalid", c.name, err)
		}
	}

	type withRegex struct {
		Name string     `bson:"name"`
		R    bson.Regex `bson:"r"`
	}
	type withCode struct {
		C bson.JavaScript `bson:"c"`
	}
	for _, c := range []struct {
		name string
		f    *mongostore.Filter
		want error
	}{
		{"Eq JavaScript", mongostore.NewFilter().Eq("a", js), mongostore.ErrInjection},
		{"Eq code with scope", mongostore.NewFilter().Eq("a", cws), mongostore.ErrInjection},
		{"Eq regex", mongostore.NewFilter().Eq("pw", re), mongostore.ErrInjection},
		{"Eq *regex", mongostore.NewFilter().Eq("pw", &re), mongostore.ErrInjection},
		{"In regex", mongostore.NewFilter().In("email", bson.Regex{Pattern: ".*"}), mongostore.ErrInjection},
		{"Nin regex", mongostore.NewFilter().Nin("email", "a", re), mongostore.ErrInjection},
		{"Ne JavaScript", mongostore.NewFilter().Ne("a", js), mongostore.ErrInjection},
		{"Gt regex", mongostore.NewFilter().Gt("a", re), mongostore.ErrInjection},
		{"Gte JavaScript", mongostore.NewFilter().Gte("a", js), mongostore.ErrInjection},
		{"Lt regex in bson.A", mongostore.NewFilter().Lt("a", bson.A{re}), mongostore.ErrInjection},
		{"Lte regex in bson.M", mongostore.NewFilter().Lte("a", bson.M{"x": re}), mongostore.ErrInjection},
		{"Eq struct holding a regex", mongostore.NewFilter().Eq("a", withRegex{Name: "x", R: re}), mongostore.ErrInjection},
		{"Eq struct holding JavaScript", mongostore.NewFilter().Eq("a", withCode{C: js}), mongostore.ErrInjection},
		{"Eq raw regex", mongostore.NewFilter().Eq("a", bson.RawValue{Type: bson.TypeRegex, Value: []byte("x\x00\x00")}), mongostore.ErrInjection},
		{"Eq symbol", mongostore.NewFilter().Eq("a", bson.Symbol("x")), mongostore.ErrInvalid},
		{"Gt MinKey", mongostore.NewFilter().Gt("a", bson.MinKey{}), mongostore.ErrInvalid},
		{"Eq Undefined", mongostore.NewFilter().Eq("a", bson.Undefined{}), mongostore.ErrInvalid},
		{"Eq string", mongostore.NewFilter().Eq("a", "^s3.*"), nil},
	} {
		_, err := c.f.Build()
		if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if err := mongostore.CheckValue(js); !errors.Is(err, mongostore.ErrInjection) {
		t.Errorf("CheckValue(JavaScript) = %v", err)
	}
	if err := mongostore.CheckValue(bson.A{"x", re}); !errors.Is(err, mongostore.ErrInjection) {
		t.Errorf("CheckValue([x, regex]) = %v", err)
	}
}

// TestFilterRegex: the explicit pattern filter quotes, anchors, limits and
// refuses PCRE-only syntax and nested unbounded repetition.
func TestFilterRegex(t *testing.T) {
	for _, c := range []struct {
		name    string
		pattern string
		o       mongostore.RegexOptions
		want    bson.D // nil: refused with ErrInvalid
	}{
		{"plain", "^ada", mongostore.RegexOptions{}, bson.D{{Key: "$regex", Value: "^ada"}}},
		{"literal anchored", "a.b*(c)", mongostore.RegexOptions{Literal: true, Anchored: true}, bson.D{{Key: "$regex", Value: `^a\.b\*\(c\)`}}},
		{"case-insensitive", "lovelace", mongostore.RegexOptions{CaseInsensitive: true}, bson.D{{Key: "$regex", Value: "lovelace"}, {Key: "$options", Value: "i"}}},
		{"bounded inside bounded", `^(\d{1,3}\.){3}\d{1,3}$`, mongostore.RegexOptions{}, bson.D{{Key: "$regex", Value: `^(\d{1,3}\.){3}\d{1,3}$`}}},
		{"literal makes a nested pattern harmless", "(a+)+", mongostore.RegexOptions{Literal: true}, bson.D{{Key: "$regex", Value: `\(a\+\)\+`}}},
		{"too long by default", strings.Repeat("a", mongostore.DefaultRegexMaxLen+1), mongostore.RegexOptions{}, nil},
		{"longer than MaxLen", "abcdef", mongostore.RegexOptions{MaxLen: 5}, nil},
		{"negative MaxLen", "a", mongostore.RegexOptions{MaxLen: -1}, nil},
		{"nested plus", "(a+)+$", mongostore.RegexOptions{}, nil},
		{"nested star", "^(a|b*)*c", mongostore.RegexOptions{}, nil},
		{"unbounded inside counted", "(x+){3}", mongostore.RegexOptions{}, nil},
		{"backreference", `(a)\1`, mongostore.RegexOptions{}, nil},
		{"lookahead", `(?=a)a`, mongostore.RegexOptions{}, nil},
		{"not UTF-8", "a\xff", mongostore.RegexOptions{}, nil},
		{"NUL", "a\x00", mongostore.RegexOptions{}, nil},
	} {
		got, err := mongostore.NewFilter().Regex("email", c.pattern, c.o).Build()
		if c.want == nil {
			if !errors.Is(err, mongostore.ErrInvalid) || errors.Is(err, mongostore.ErrInjection) {
				t.Errorf("%s: %v, want ErrInvalid", c.name, err)
			}
			continue
		}
		want := bson.D{{Key: "email", Value: c.want}}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %v, %v; want %v", c.name, got, err, want)
		}
	}
	if _, err := mongostore.NewFilter().Regex("$where", "a", mongostore.RegexOptions{}).Build(); !errors.Is(err, mongostore.ErrInjection) {
		t.Errorf("Regex on field $where: %v", err)
	}
}
