package mongostore_test

// Lucid's own schema files (testdata/lucid, unchanged from HamiGames/Lucid)
// against the SDK's registry, without a server.

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/HamiGames/lucid-data/lucidkeys"
	"github.com/HamiGames/lucid-data/mongostore"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// lucidFive are the collections with a schema file in Lucid's repository.
var lucidFive = []lucidkeys.Collection{lucidkeys.CollUsers, lucidkeys.CollSessions, lucidkeys.CollBlocks,
	lucidkeys.CollTransactions, lucidkeys.CollTrustPolicies}

var (
	jsKeyRe      = regexp.MustCompile(`([A-Za-z_$][A-Za-z0-9_]*)\s*:`)
	jsTrailingRe = regexp.MustCompile(`,(\s*[}\]])`)
	jsISODateRe  = regexp.MustCompile(`ISODate\(("[^"]*")\)`)
)

// jsToJSON turns a mongosh object literal as Lucid's files write them
// (bare keys, trailing commas, ISODate("...")) into extended JSON. Strings
// are copied untouched.
func jsToJSON(src string) string {
	var out, code strings.Builder
	flush := func() {
		c := jsKeyRe.ReplaceAllString(code.String(), `"$1":`)
		out.WriteString(jsTrailingRe.ReplaceAllString(c, "$1"))
		code.Reset()
	}
	for i := 0; i < len(src); i++ {
		if src[i] != '"' {
			code.WriteByte(src[i])
			continue
		}
		j := i + 1
		for src[j] != '"' {
			if src[j] == '\\' {
				j++
			}
			j++
		}
		flush()
		out.WriteString(src[i : j+1])
		i = j
	}
	flush()
	return jsISODateRe.ReplaceAllString(out.String(), `{"$$date":$1}`)
}

// braced returns the balanced {...} of src starting at the first '{' at or
// after from, skipping strings.
func braced(t *testing.T, src string, from int) string {
	t.Helper()
	start := strings.IndexByte(src[from:], '{')
	if start < 0 {
		t.Fatalf("no object after offset %d", from)
	}
	start += from
	depth, inStr := 0, false
	for i := start; i < len(src); i++ {
		c := src[i]
		switch {
		case inStr && c == '\\':
			i++
		case c == '"':
			inStr = !inStr
		case !inStr && c == '{':
			depth++
		case !inStr && c == '}':
			depth--
			if depth == 0 {
				return src[start : i+1]
			}
		}
	}
	t.Fatal("unbalanced braces")
	return ""
}

func readLucid(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "lucid", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// lucidFileSchema is the $jsonSchema of coll's schema file, as a document.
func lucidFileSchema(t *testing.T, coll lucidkeys.Collection) bson.D {
	t.Helper()
	src := readLucid(t, string(coll)+"_schema.js")
	var d bson.D
	js := jsToJSON(braced(t, src, strings.Index(src, "$jsonSchema:")))
	if err := bson.UnmarshalExtJSON([]byte(js), false, &d); err != nil {
		t.Fatalf("%s: $jsonSchema: %v\n%s", coll, err, js)
	}
	return d
}

// lucidFileExample is the example document at the end of coll's file.
func lucidFileExample(t *testing.T, coll lucidkeys.Collection) bson.D {
	t.Helper()
	src := readLucid(t, string(coll)+"_schema.js")
	var d bson.D
	js := jsToJSON(braced(t, src, strings.Index(src, "// Example document")))
	if err := bson.UnmarshalExtJSON([]byte(js), false, &d); err != nil {
		t.Fatalf("%s: example: %v\n%s", coll, err, js)
	}
	return d
}

// lucidExample is the extended-JSON translation in testdata/lucid/examples.
func lucidExample(t testing.TB, coll lucidkeys.Collection) bson.D {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "lucid", "examples", string(coll)+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var d bson.D
	if err := bson.UnmarshalExtJSON(b, false, &d); err != nil {
		t.Fatalf("%s example: %v", coll, err)
	}
	return d
}

// norm makes decoded BSON comparable: documents become maps, every number
// a float64 (ignoreNumTypes) or a typed value.
func norm(v any, ignoreNumTypes bool) any {
	switch x := v.(type) {
	case bson.D:
		m := map[string]any{}
		for _, e := range x {
			m[e.Key] = norm(e.Value, ignoreNumTypes)
		}
		return m
	case bson.A:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = norm(e, ignoreNumTypes)
		}
		return out
	case int32:
		if ignoreNumTypes {
			return float64(x)
		}
	case int64:
		if ignoreNumTypes {
			return float64(x)
		}
	}
	return v
}

func docOf(t *testing.T, v any) bson.D {
	t.Helper()
	b, err := bson.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var d bson.D
	if err := bson.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestLucidValidatorsAreLucidsFiles: the registry's validator of each of
// the five collections is, keyword for keyword, the $jsonSchema of Lucid's
// file (numbers compared by value: the shell's 0 and the SDK's 0.0 are the
// same minimum to the server).
func TestLucidValidatorsAreLucidsFiles(t *testing.T) {
	s := mongostore.LucidSchema()
	for _, c := range lucidFive {
		spec, ok := s.Collection(c)
		if !ok {
			t.Fatalf("%s not in the registry", c)
		}
		want := norm(lucidFileSchema(t, c), true)
		got := norm(docOf(t, spec.Validator.Document()), true)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: registry validator differs from Lucid's file\n got %v\nwant %v", c, got, want)
		}
	}
}

// TestLucidExamplesMatchTheFiles: the extended-JSON examples are the .js
// examples (apart from the numeric types the schema fixes), and every one
// is accepted by client-side validation.
func TestLucidExamplesMatchTheFiles(t *testing.T) {
	s := mongostore.LucidSchema()
	for _, c := range lucidFive {
		ex := lucidExample(t, c)
		if got, want := norm(ex, true), norm(lucidFileExample(t, c), true); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: testdata example differs from the .js example\n got %v\nwant %v", c, got, want)
		}
		if err := s.ValidateDocument(c, ex); err != nil {
			t.Errorf("%s: Lucid's example document refused: %v", c, err)
		}
	}
}

var createIndexRe = regexp.MustCompile(`db\.(\w+)\.createIndex\((\{[^}]*\})(?:,\s*(\{[^}]*\}))?\);`)

// lucidIndex is one createIndex call of create_indexes.js.
type lucidIndex struct {
	coll           lucidkeys.Collection
	keys           bson.D
	unique, sparse bool
}

// name is the server's default name for the index (email_1, ...).
func (ix lucidIndex) name() string {
	var parts []string
	for _, k := range ix.keys {
		parts = append(parts, k.Key+"_"+strings.TrimSuffix(strings.TrimSuffix(normNum(k.Value), ".0"), ""))
	}
	return strings.Join(parts, "_")
}

func normNum(v any) string {
	switch x := v.(type) {
	case int:
		return itoaSigned(int64(x))
	case int32:
		return itoaSigned(int64(x))
	case int64:
		return itoaSigned(x)
	case float64:
		return itoaSigned(int64(x))
	}
	return "?"
}

func itoaSigned(n int64) string {
	if n < 0 {
		return "-" + fmtInt(int(-n))
	}
	return fmtInt(int(n))
}

// lucidIndexes parses create_indexes.js.
func lucidIndexes(t testing.TB) []lucidIndex {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "lucid", "create_indexes.js"))
	if err != nil {
		t.Fatal(err)
	}
	var out []lucidIndex
	for _, m := range createIndexRe.FindAllStringSubmatch(string(b), -1) {
		ix := lucidIndex{coll: lucidkeys.Collection(m[1])}
		if err := bson.UnmarshalExtJSON([]byte(jsToJSON(m[2])), false, &ix.keys); err != nil {
			t.Fatalf("keys %s: %v", m[2], err)
		}
		if m[3] != "" {
			var o struct {
				Unique bool `bson:"unique"`
				Sparse bool `bson:"sparse"`
			}
			if err := bson.UnmarshalExtJSON([]byte(jsToJSON(m[3])), false, &o); err != nil {
				t.Fatalf("options %s: %v", m[3], err)
			}
			ix.unique, ix.sparse = o.Unique, o.Sparse
		}
		out = append(out, ix)
	}
	if len(out) != 29 {
		t.Fatalf("parsed %d createIndex calls from create_indexes.js, want 29", len(out))
	}
	return out
}

// TestLucidIndexesAreCreateIndexes: the registry's indexes of the five are
// exactly those of create_indexes.js — same keys in the same order and
// direction, same unique and sparse — no more, no fewer.
func TestLucidIndexesAreCreateIndexes(t *testing.T) {
	s := mongostore.LucidSchema()
	want := map[lucidkeys.Collection][]string{}
	for _, ix := range lucidIndexes(t) {
		want[ix.coll] = append(want[ix.coll], descr(ix.keys, ix.unique, ix.sparse))
	}
	for _, c := range lucidFive {
		spec, _ := s.Collection(c)
		var got []string
		for _, ix := range spec.Indexes {
			got = append(got, descr(ix.Keys, ix.Unique, ix.Sparse))
		}
		if !reflect.DeepEqual(got, want[c]) {
			t.Errorf("%s indexes:\n got %v\nwant %v", c, got, want[c])
		}
	}
	if n := s.IndexCount(); n != 65 {
		t.Errorf("IndexCount = %d, want 65 (29 of Lucid's, 36 of the SDK's)", n)
	}
}

func descr(keys bson.D, unique, sparse bool) string {
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k.Key + ":" + normNum(k.Value) + " ")
	}
	if unique {
		b.WriteString("unique ")
	}
	if sparse {
		b.WriteString("sparse")
	}
	return strings.TrimSpace(b.String())
}

// sample values of each bsonType, for the table below.
var sampleOf = map[string]any{
	"string": "s", "int": int32(7), "long": int64(7), "double": 7.5, "date": time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
	"bool": true, "object": bson.D{}, "array": bson.A{}, "null": nil, "objectId": bson.ObjectID{1},
}

// wrongTypes are tried, in order, as a value of a type a field refuses.
var wrongTypes = []string{"int", "string", "long", "double", "bool", "array", "null"}

// TestLucidFieldTable: a table derived from each of Lucid's five files,
// field by field: every bsonType the field allows is accepted (with a
// value its enum and pattern accept), a type it does not allow is refused
// with rule bsonType, an enum value outside the list with rule enum, a
// number below minimum with rule minimum, an array item of a refused type
// or value at field.N, a nested field at parent.field; each required field
// missing is refused with rule required, each optional one missing is
// accepted. Lucid's own (shell-typed) example values decide nothing here:
// the cases start from the example documents of testdata.
func TestLucidFieldTable(t *testing.T) {
	s := mongostore.LucidSchema()
	good := map[string]any{ // a value of string fields with a pattern
		"email": "ada.lovelace+lucid@example.org",
	}
	cases := 0
	for _, c := range lucidFive {
		ex := lucidExample(t, c)
		spec, _ := s.Collection(c)
		check := func(doc bson.D, field, rule string) {
			t.Helper()
			cases++
			err := s.ValidateDocument(c, doc)
			if rule == "" {
				if err != nil {
					t.Errorf("%s: %s: refused %v", c, field, err)
				}
				return
			}
			var ve *mongostore.ValidationError
			if !errors.As(err, &ve) || ve.Field != field || ve.Rule != rule {
				t.Errorf("%s: %s: got %v, want field %s rule %s", c, field, err, field, rule)
			}
		}
		var walk func(path []string, sch *mongostore.JSONSchema, put func(v any) bson.D)
		walk = func(path []string, sch *mongostore.JSONSchema, put func(v any) bson.D) {
			field := strings.Join(path, ".")
			allowed := map[string]bool{}
			for _, bt := range sch.BSONType {
				allowed[bt] = true
				v := sampleOf[bt]
				switch {
				case bt == "string" && len(sch.Enum) > 0:
					v = sch.Enum[0]
				case bt == "string" && sch.Pattern != "":
					v = good[path[len(path)-1]]
				case bt == "object" && len(sch.Required) > 0:
					continue // built below from its properties
				}
				check(put(v), field, "")
			}
			for _, wt := range wrongTypes {
				if !allowed[wt] {
					check(put(sampleOf[wt]), field, "bsonType")
					break
				}
			}
			if len(sch.Enum) > 0 {
				check(put("not-in-"+field), field, "enum")
			}
			if sch.Pattern != "" {
				check(put("no pattern match"), field, "pattern")
			}
			if sch.Minimum != nil {
				for _, bt := range sch.BSONType {
					switch bt {
					case "int":
						check(put(int32(*sch.Minimum)-1), field, "minimum")
						check(put(int32(*sch.Minimum)), field, "")
					case "long":
						check(put(int64(*sch.Minimum)-1), field, "minimum")
						check(put(int64(*sch.Minimum)), field, "")
					}
				}
			}
			if sch.Items != nil {
				item := sch.Items
				walk(append(append([]string(nil), path...), "0"), item, func(v any) bson.D { return put(bson.A{v}) })
			}
			if len(sch.Properties) > 0 {
				// A document holding just what it requires, then each
				// property varied inside it.
				base := bson.D{}
				for _, r := range sch.Required {
					p := sch.Properties[r]
					v := sampleOf[p.BSONType[0]]
					if len(p.Enum) > 0 {
						v = p.Enum[0]
					}
					base = append(base, bson.E{Key: r, Value: v})
				}
				if allowed["object"] {
					check(put(base), field, "")
				}
				for _, r := range sch.Required {
					check(put(without(base, r)), field+"."+r, "required")
				}
				for name, p := range sch.Properties {
					name := name
					walk(append(append([]string(nil), path...), name), p, func(v any) bson.D { return put(set(base, name, v)) })
				}
			}
		}
		for name, p := range spec.Validator.Properties {
			name := name
			walk([]string{name}, p, func(v any) bson.D { return set(ex, name, v) })
		}
		for name := range spec.Validator.Properties {
			want := ""
			if slicesContains(spec.Validator.Required, name) {
				want = "required"
			}
			check(without(ex, name), name, want)
		}
	}
	t.Logf("%d accept/reject cases over the five collections", cases)
}

func slicesContains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// TestLucidLooseWhereLucidIsLoose: what Lucid's files leave open stays
// open — unknown fields, any preferences/metadata/extra_data content, null
// in every ["...", "null"] field, an empty roles array — and the long/int
// distinction Lucid makes is kept (a Python int of 32 bits in a "long"
// field is refused, as mongod's validator refuses it).
func TestLucidLooseWhereLucidIsLoose(t *testing.T) {
	s := mongostore.LucidSchema()
	u := lucidExample(t, lucidkeys.CollUsers)
	for _, d := range []bson.D{
		set(u, "some_future_field", bson.D{{Key: "x", Value: 1}}),
		set(u, "preferences", bson.D{{Key: "anything", Value: bson.A{1, "two", nil}}}),
		set(u, "roles", bson.A{}),
		set(set(set(u, "username", nil), "password_hash", nil), "hardware_wallet", nil),
		set(u, "hardware_wallet", bson.D{{Key: "type", Value: "Ledger"}}), // public_key optional
		set(u, "email", "user@example.com\n"),                             // mongod's PCRE: "$" before a final newline
	} {
		if err := s.ValidateDocument(lucidkeys.CollUsers, d); err != nil {
			t.Errorf("refused %v: %v", d, err)
		}
	}
	sess := lucidExample(t, lucidkeys.CollSessions)
	var ve *mongostore.ValidationError
	if err := s.ValidateDocument(lucidkeys.CollSessions, set(sess, "duration", int32(1800))); !errors.As(err, &ve) || ve.Field != "duration" || ve.Rule != "bsonType" {
		t.Errorf("int32 duration (Lucid says long): %v", err)
	}
	if err := s.ValidateDocument(lucidkeys.CollSessions, set(sess, "blockchain_anchor", bson.D{{Key: "block_height", Value: int64(5)},
		{Key: "block_hash", Value: "h"}, {Key: "timestamp", Value: t0}})); err != nil {
		t.Errorf("blockchain_anchor: %v", err)
	}
}

// TestForeignFieldsAgree: a field of the ten SDK collections named like a
// field of Lucid's five has the five's type, and no pattern or length rule
// Lucid does not have, so an id Lucid accepts is accepted everywhere.
func TestForeignFieldsAgree(t *testing.T) {
	s := mongostore.LucidSchema()
	lucid := map[string]*mongostore.JSONSchema{}
	for _, c := range lucidFive {
		spec, _ := s.Collection(c)
		for name, p := range spec.Validator.Properties {
			if _, ok := lucid[name]; !ok {
				lucid[name] = p
			}
		}
	}
	for _, name := range []string{"user_id", "session_id", "policy_id", "tx_id", "block_height", "block_hash", "merkle_root"} {
		if lucid[name] == nil && name != "policy_id" {
			t.Errorf("%s is not a field of the five", name)
		}
	}
	foreign := map[string]string{"actor_id": "user_id", "updated_by": "user_id", "anchor_tx_id": "tx_id"}
	for _, c := range lucidkeys.Collections() {
		if slicesContains(collNames(lucidFive), string(c)) {
			continue
		}
		spec, _ := s.Collection(c)
		for name, p := range spec.Validator.Properties {
			ref := name
			if r, ok := foreign[name]; ok {
				ref = r
			}
			l, ok := lucid[ref]
			if !ok || ref == "status" || ref == "name" || ref == "description" || ref == "version" || ref == "timestamp" ||
				ref == "created_at" || ref == "updated_at" || ref == "signature" || ref == "size" || ref == "metadata" {
				continue // not a reference to the five
			}
			lt := strings.Join(stripNull(l.BSONType), ",")
			pt := strings.Join(stripNull(p.BSONType), ",")
			if lt != pt || (p.Pattern != "" && p.Pattern != l.Pattern) || (p.MaxLength != nil && l.MaxLength == nil) {
				t.Errorf("%s.%s: %v pattern %q; Lucid's %s is %v pattern %q", c, name, p.BSONType, p.Pattern, ref, l.BSONType, l.Pattern)
			}
		}
	}
}

func collNames(cs []lucidkeys.Collection) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = string(c)
	}
	return out
}

func stripNull(ts []string) []string {
	var out []string
	for _, t := range ts {
		if t != "null" {
			out = append(out, t)
		}
	}
	return out
}

// TestValidatorsRenderAsSchemas: every validator of the registry renders
// to a $jsonSchema document that reads back to itself; an empty schema
// (system_config's value: any value) is {} — it was rendered as null,
// which mongod refuses in properties and which never compared equal to the
// validator the server stores.
func TestValidatorsRenderAsSchemas(t *testing.T) {
	for _, spec := range mongostore.LucidSchema().Collections() {
		doc := spec.ValidatorDocument()
		back, err := mongostore.ParseJSONSchema(doc)
		if err != nil {
			t.Errorf("%s: rendered validator does not read back: %v", spec.Name, err)
			continue
		}
		if got, want := norm(docOf(t, back.Document()), true), norm(docOf(t, spec.Validator.Document()), true); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: round trip differs\n got %v\nwant %v", spec.Name, got, want)
		}
	}
}
