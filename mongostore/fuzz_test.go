package mongostore_test

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/HamiGames/lucid-data/lucidkeys"
	"github.com/HamiGames/lucid-data/mongostore"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// FuzzAllowListedFilter: whatever JSON comes in, AllowListedFilter never panics,
// and an accepted filter holds no forbidden operator and no $-key outside
// the allowed list, at any depth.
func FuzzAllowListedFilter(f *testing.F) {
	for _, s := range []string{
		`{"email":"a@b.c"}`, `{"email":{"$ne":""}}`, `{"$where":"1"}`, `{"a":{"$gt":1,"$lt":5}}`,
		`{"$or":[{"a":1},{"b":{"$in":[1,2]}}]}`, `{"a":{"$elemMatch":{"b":{"$expr":1}}}}`,
		`{"a":{"b":{"$function":{}}}}`, `{"a":{"$not":{"$regex":"x"}}}`, `{"a.$b":1}`, `{"":1}`,
		`{"a":[{"$accumulator":1}]}`, `{"a":{"$gt":1,"b":2}}`, `{"a":{"$code":"x"}}`,
		`{"pw":{"$regularExpression":{"pattern":"^s3","options":""}}}`, `{"a":{"$in":[{"$regularExpression":{"pattern":".*","options":"i"}}]}}`,
		`{"a":{"$exists":{"$code":"1"}}}`, `{"a":{"$gt":{"$minKey":1}}}`, `{"a":{"$symbol":"x"}}`,
	} {
		f.Add(s)
	}
	allowed := map[string]bool{"$eq": true, "$ne": true, "$gt": true, "$gte": true, "$lt": true, "$lte": true,
		"$in": true, "$nin": true, "$exists": true, "$and": true, "$or": true, "$nor": true, "$not": true,
		"$size": true, "$all": true, "$elemMatch": true}
	f.Fuzz(func(t *testing.T, js string) {
		var doc bson.D
		if err := bson.UnmarshalExtJSON([]byte(js), false, &doc); err != nil {
			return
		}
		out, err := mongostore.AllowListedFilter(doc)
		if err != nil {
			if !errors.Is(err, mongostore.ErrInvalid) {
				t.Fatalf("error not ErrInvalid: %v", err)
			}
			return
		}
		b, err := bson.Marshal(out)
		if err != nil {
			t.Fatal(err)
		}
		var walk func(bson.Raw, bool)
		walk = func(r bson.Raw, isArray bool) {
			elems, _ := r.Elements()
			for _, e := range elems {
				if !isArray && strings.HasPrefix(e.Key(), "$") && !allowed[e.Key()] {
					t.Fatalf("accepted %s: key %q", js, e.Key())
				}
				switch e.Value().Type {
				case bson.TypeEmbeddedDocument:
					walk(e.Value().Document(), false)
				case bson.TypeArray:
					walk(bson.Raw(e.Value().Array()), true)
				case bson.TypeJavaScript, bson.TypeCodeWithScope, bson.TypeRegex, bson.TypeSymbol,
					bson.TypeUndefined, bson.TypeDBPointer, bson.TypeMinKey, bson.TypeMaxKey:
					t.Fatalf("accepted a %s value in %s", e.Value().Type, js)
				}
			}
		}
		walk(b, false)
	})
}

// FuzzFilterEq: a value from a request, whatever its shape, either becomes
// a literal {$eq: v} comparison or is rejected; never an operator.
func FuzzFilterEq(f *testing.F) {
	for _, s := range []string{`{"v":"x"}`, `{"v":{"$ne":""}}`, `{"v":[{"$gt":1}]}`, `{"v":{"a":{"$where":"1"}}}`, `{"v":1}`,
		`{"v":{"$regularExpression":{"pattern":".*","options":""}}}`, `{"v":[{"$code":"1"}]}`, `{"v":{"a":{"$maxKey":1}}}`} {
		f.Add("email", s)
	}
	f.Fuzz(func(t *testing.T, field, js string) {
		var doc bson.D
		if err := bson.UnmarshalExtJSON([]byte(js), false, &doc); err != nil || len(doc) == 0 {
			return
		}
		out, err := mongostore.NewFilter().Eq(field, doc[0].Value).Build()
		if err != nil {
			if !errors.Is(err, mongostore.ErrInvalid) {
				t.Fatalf("error not ErrInvalid: %v", err)
			}
			return
		}
		if strings.HasPrefix(field, "$") || strings.Contains(field, ".$") || len(out) != 1 {
			t.Fatalf("accepted field %q: %v", field, out)
		}
		// What Build accepts can be sent.
		b, err := bson.Marshal(bson.D{{Key: "v", Value: doc[0].Value}})
		if err != nil {
			t.Fatalf("accepted a value BSON cannot encode: %v", err)
		}
		var types func(bson.RawValue)
		types = func(v bson.RawValue) {
			switch v.Type {
			case bson.TypeJavaScript, bson.TypeCodeWithScope, bson.TypeRegex, bson.TypeSymbol,
				bson.TypeUndefined, bson.TypeDBPointer, bson.TypeMinKey, bson.TypeMaxKey:
				t.Fatalf("accepted a %s value: %s", v.Type, js)
			case bson.TypeEmbeddedDocument, bson.TypeArray:
				vals, _ := bson.Raw(v.Value).Values()
				for _, x := range vals {
					types(x)
				}
			}
		}
		types(bson.Raw(b).Lookup("v"))
		if strings.Contains(string(b), "\x00$") || strings.HasPrefix(string(b[5:]), "$") {
			// A $-key at any depth of the value must have been rejected.
			var check func(bson.Raw)
			check = func(r bson.Raw) {
				elems, _ := r.Elements()
				for _, e := range elems {
					if strings.HasPrefix(e.Key(), "$") {
						t.Fatalf("accepted value with key %q", e.Key())
					}
					if d, ok := e.Value().DocumentOK(); ok {
						check(d)
					}
					if a, ok := e.Value().ArrayOK(); ok {
						check(bson.Raw(a))
					}
				}
			}
			check(bson.Raw(b).Lookup("v").Value)
		}
	})
}

// FuzzValidateDocument: arbitrary bytes as a document never panic the
// validator; the outcome is nil, ErrValidation or ErrInvalid (malformed
// BSON); an accepted users document has every required field.
func FuzzValidateDocument(f *testing.F) {
	s := mongostore.LucidSchema()
	for _, d := range goodDocs(1) {
		b, _ := bson.Marshal(d)
		f.Add(b)
	}
	b, _ := bson.Marshal(bson.D{{Key: "email", Value: bson.A{1, bson.D{{Key: "x", Value: 2}}}}})
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, c := range lucidkeys.Collections() {
			err := s.ValidateDocument(c, bson.Raw(data))
			if err != nil && !errors.Is(err, mongostore.ErrValidation) && !errors.Is(err, mongostore.ErrInvalid) {
				t.Fatalf("%s: unexpected error %v", c, err)
			}
			if err == nil && c == lucidkeys.CollUsers {
				for _, r := range []string{"user_id", "email", "created_at", "updated_at", "status"} {
					if _, lerr := bson.Raw(data).LookupErr(r); lerr != nil {
						t.Fatalf("accepted users document without %s", r)
					}
				}
			}
		}
	})
}

// FuzzValidateUpdate: arbitrary update documents never panic; outcomes are
// nil, ErrValidation or ErrInvalid; an accepted $unset never names a
// required top-level field.
func FuzzValidateUpdate(f *testing.F) {
	s := mongostore.LucidSchema()
	for _, js := range []string{
		`{"$set":{"email":"a@b.c"}}`, `{"$unset":{"email":""}}`, `{"$set":{"rules.0.effect":"x"}}`,
		`{"$push":{"rules":{"$each":[{"rule_id":"r"}]}}}`, `{"$inc":{"version":"1"}}`, `{"name":1}`,
		`{"$set":{"a..b":1}}`, `{"$rename":{"name":"x"}}`,
	} {
		f.Add(js)
	}
	f.Fuzz(func(t *testing.T, js string) {
		var doc bson.D
		if err := bson.UnmarshalExtJSON([]byte(js), false, &doc); err != nil {
			return
		}
		for _, c := range []lucidkeys.Collection{lucidkeys.CollUsers, lucidkeys.CollTrustPolicies, lucidkeys.CollSessions} {
			err := s.ValidateUpdate(c, doc)
			if err != nil && !errors.Is(err, mongostore.ErrValidation) && !errors.Is(err, mongostore.ErrInvalid) {
				t.Fatalf("unexpected error %v", err)
			}
			if err != nil {
				continue
			}
			spec, _ := s.Collection(c)
			for _, e := range doc {
				if e.Key != "$unset" {
					continue
				}
				if u, ok := e.Value.(bson.D); ok {
					for _, f := range u {
						for _, r := range spec.Validator.Required {
							if f.Key == r {
								t.Fatalf("%s: accepted $unset of required %s", c, r)
							}
						}
					}
				}
			}
		}
	})
}

// FuzzFilterRegex: whatever the pattern, Filter.Regex refuses it with
// ErrInvalid or emits a pattern within the limit that Go's regexp compiles;
// a Literal pattern matches exactly its input text.
func FuzzFilterRegex(f *testing.F) {
	for _, s := range []string{"^ada", "(a+)+$", `(a)\1`, "a.b*", `(\d{1,3}\.){3}`, "(?=x)", "\x00", "[", "é+"} {
		f.Add(s, false, false)
		f.Add(s, true, true)
	}
	f.Fuzz(func(t *testing.T, p string, literal, anchored bool) {
		o := mongostore.RegexOptions{Literal: literal, Anchored: anchored}
		d, err := mongostore.NewFilter().Regex("f", p, o).Build()
		if err != nil {
			if !errors.Is(err, mongostore.ErrInvalid) {
				t.Fatalf("error not ErrInvalid: %v", err)
			}
			if literal && len(p) <= mongostore.DefaultRegexMaxLen && utf8.ValidString(p) && !strings.ContainsRune(p, 0) {
				t.Fatalf("literal %q refused: %v", p, err)
			}
			return
		}
		if len(p) > mongostore.DefaultRegexMaxLen {
			t.Fatalf("accepted a %d-byte pattern", len(p))
		}
		out := d[0].Value.(bson.D)[0].Value.(string)
		re, err := regexp.Compile(out)
		if err != nil {
			t.Fatalf("emitted %q that does not compile: %v", out, err)
		}
		if literal && !re.MatchString(p) {
			t.Fatalf("literal %q does not match itself", p)
		}
	})
}

// FuzzParseJSONSchema: whatever JSON comes in, ParseJSONSchema never
// panics and fails only with ErrInvalid; an accepted schema renders to a
// document that parses back to the same rendering, so what a service
// loads is what the server and the client-side checks get.
func FuzzParseJSONSchema(f *testing.F) {
	for _, c := range []string{"users", "sessions", "blocks", "transactions", "trust_policies"} {
		b, err := os.ReadFile(filepath.Join("lucidschema", c+".json"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	for _, s := range []string{`{"$jsonSchema":{"bsonType":["string","null"]}}`, `{"enum":[1,"a",true,2.5]}`, `{"minLength":-1}`,
		`{"items":[{}]}`, `{"oneOf":[]}`, `{"pattern":"(?=a)"}`, `{"properties":{"a":{"properties":{"b":{"maximum":1e300}}}}}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, js string) {
		s, err := mongostore.ParseJSONSchema([]byte(js))
		if err != nil {
			if !errors.Is(err, mongostore.ErrInvalid) {
				t.Fatalf("error not ErrInvalid: %v", err)
			}
			return
		}
		d1 := s.Document()
		s2, err := mongostore.ParseJSONSchema(d1)
		if err != nil {
			t.Fatalf("rendering of an accepted schema refused: %v\n%v", err, d1)
		}
		b1, _ := bson.MarshalExtJSON(d1, true, false)
		b2, _ := bson.MarshalExtJSON(s2.Document(), true, false)
		if string(b1) != string(b2) {
			t.Fatalf("round trip differs:\n%s\n%s", b1, b2)
		}
	})
}
