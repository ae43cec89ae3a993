package mongostore

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// JSONSchema is the subset of MongoDB's $jsonSchema that this package
// renders for the server's validator and checks client-side: bsonType,
// required, properties, additionalProperties, enum, pattern,
// minLength/maxLength, minimum/maximum, items, minItems/maxItems, title and
// description (ParseJSONSchema reads it from a $jsonSchema document). The same
// value drives both, so a document the client accepts is one the server's
// validator accepts too (for this subset).
type JSONSchema struct {
	// BSONType lists the accepted BSON types ("object", "array", "string",
	// "int", "long", "double", "decimal", "number" (any numeric), "bool",
	// "date", "objectId", "binData", "null", "timestamp"). Empty: any.
	BSONType []string
	// Required lists properties an object must have.
	Required []string
	// Properties maps property names to their schemas.
	Properties map[string]*JSONSchema
	// AdditionalProperties, when non-nil and false, rejects properties not
	// in Properties (other than "_id").
	AdditionalProperties *bool
	// Enum lists the accepted values (strings, integers, floats or bools).
	Enum []any
	// Pattern is a regular expression strings must match, in the syntax
	// shared by Go's RE2 and the server's PCRE (PCRE-only constructs such
	// as backreferences and lookaround fail NewSchema). As in PCRE, a
	// pattern ending in "$" also matches before one final newline.
	Pattern string
	// MinLength and MaxLength bound a string's length in characters.
	MinLength, MaxLength *int
	// Minimum and Maximum bound a number (inclusive).
	Minimum, Maximum *float64
	// Items is the schema of every array element.
	Items *JSONSchema
	// MinItems and MaxItems bound an array's length.
	MinItems, MaxItems *int
	// Title and Description are annotations sent to the server with the
	// validator (it quotes them in its error reports); they check nothing.
	Title       string
	Description string

	re *pattern
}

// Document renders s as a $jsonSchema document with keys in a fixed order,
// so two renderings of equal schemas compare equal byte for byte.
func (s *JSONSchema) Document() bson.D {
	// Never nil: a nil bson.D encodes as null, and an empty schema (any
	// value, like system_config's value) must reach the server as {}.
	d := bson.D{}
	if s == nil {
		return d
	}
	if len(s.BSONType) == 1 {
		d = append(d, bson.E{Key: "bsonType", Value: s.BSONType[0]})
	} else if len(s.BSONType) > 1 {
		d = append(d, bson.E{Key: "bsonType", Value: toA(s.BSONType)})
	}
	if s.Title != "" {
		d = append(d, bson.E{Key: "title", Value: s.Title})
	}
	if s.Description != "" {
		d = append(d, bson.E{Key: "description", Value: s.Description})
	}
	if len(s.Required) > 0 {
		d = append(d, bson.E{Key: "required", Value: toA(s.Required)})
	}
	if len(s.Properties) > 0 {
		keys := make([]string, 0, len(s.Properties))
		for k := range s.Properties {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var props bson.D
		for _, k := range keys {
			props = append(props, bson.E{Key: k, Value: s.Properties[k].Document()})
		}
		d = append(d, bson.E{Key: "properties", Value: props})
	}
	if s.AdditionalProperties != nil {
		d = append(d, bson.E{Key: "additionalProperties", Value: *s.AdditionalProperties})
	}
	if len(s.Enum) > 0 {
		d = append(d, bson.E{Key: "enum", Value: bson.A(s.Enum)})
	}
	if s.Pattern != "" {
		d = append(d, bson.E{Key: "pattern", Value: s.Pattern})
	}
	if s.MinLength != nil {
		d = append(d, bson.E{Key: "minLength", Value: int64(*s.MinLength)})
	}
	if s.MaxLength != nil {
		d = append(d, bson.E{Key: "maxLength", Value: int64(*s.MaxLength)})
	}
	if s.Minimum != nil {
		d = append(d, bson.E{Key: "minimum", Value: *s.Minimum})
	}
	if s.Maximum != nil {
		d = append(d, bson.E{Key: "maximum", Value: *s.Maximum})
	}
	if s.Items != nil {
		d = append(d, bson.E{Key: "items", Value: s.Items.Document()})
	}
	if s.MinItems != nil {
		d = append(d, bson.E{Key: "minItems", Value: int64(*s.MinItems)})
	}
	if s.MaxItems != nil {
		d = append(d, bson.E{Key: "maxItems", Value: int64(*s.MaxItems)})
	}
	return d
}

func toA(ss []string) bson.A {
	a := make(bson.A, len(ss))
	for i, s := range ss {
		a[i] = s
	}
	return a
}

// compile checks the schema (known bsonType names, valid patterns) and
// caches compiled patterns. Schemas are compiled when a Schema is built.
func (s *JSONSchema) compile(path string) error {
	if s == nil {
		return nil
	}
	for _, t := range s.BSONType {
		if !knownBSONType(t) {
			return fmt.Errorf("mongostore: schema %s: unknown bsonType %q", path, t)
		}
	}
	// A sub-schema shared with an already built Schema (Schema.With and
	// Extend reuse them) is compiled already: it is only read, never
	// written again, so Schemas that share it stay safe for concurrent use.
	if s.Pattern != "" && (s.re == nil || s.re.re.String() != s.Pattern) {
		re, err := compilePattern(s.Pattern)
		if err != nil {
			return fmt.Errorf("mongostore: schema %s: pattern: %w", path, err)
		}
		s.re = re
	}
	for k, p := range s.Properties {
		if err := p.compile(join(path, k)); err != nil {
			return err
		}
	}
	return s.Items.compile(path + "[]")
}

func knownBSONType(t string) bool {
	switch t {
	case "object", "array", "string", "int", "long", "double", "decimal", "number",
		"bool", "date", "objectId", "binData", "null", "timestamp", "regex":
		return true
	}
	return false
}

// typeName returns the $jsonSchema bsonType name of a BSON type.
func typeName(t bson.Type) string {
	switch t {
	case bson.TypeEmbeddedDocument:
		return "object"
	case bson.TypeArray:
		return "array"
	case bson.TypeString:
		return "string"
	case bson.TypeInt32:
		return "int"
	case bson.TypeInt64:
		return "long"
	case bson.TypeDouble:
		return "double"
	case bson.TypeDecimal128:
		return "decimal"
	case bson.TypeBoolean:
		return "bool"
	case bson.TypeDateTime:
		return "date"
	case bson.TypeObjectID:
		return "objectId"
	case bson.TypeBinary:
		return "binData"
	case bson.TypeNull:
		return "null"
	case bson.TypeTimestamp:
		return "timestamp"
	case bson.TypeRegex:
		return "regex"
	}
	return fmt.Sprintf("bsonType(0x%02x)", byte(t))
}

func typeMatches(want string, t bson.Type) bool {
	if want == "number" {
		return t == bson.TypeInt32 || t == bson.TypeInt64 || t == bson.TypeDouble || t == bson.TypeDecimal128
	}
	return typeName(t) == want
}

// maxDepth bounds recursion in validation of untrusted documents.
const maxDepth = 100

// fieldPath is a field's dotted path, spelled out only when an error or a
// nested value needs it: validating a valid document allocates no paths.
type fieldPath struct {
	parent string
	key    []byte // the last segment, or nil
	index  int    // the last segment when >= 0 and key is nil
}

// atPath is the path s itself.
func atPath(s string) fieldPath { return fieldPath{parent: s, index: -1} }

func (p fieldPath) String() string {
	switch {
	case p.key != nil:
		return join(p.parent, string(p.key))
	case p.index >= 0:
		return join(p.parent, strconv.Itoa(p.index))
	}
	return p.parent
}

// validate checks v against s; fp is the dotted field path for errors.
func (s *JSONSchema) validate(coll string, fp fieldPath, v bson.RawValue, depth int) *ValidationError {
	if s == nil {
		return nil
	}
	fail := func(rule, format string, args ...any) *ValidationError {
		return &ValidationError{Collection: coll, Field: fp.String(), Rule: rule, Detail: fmt.Sprintf(format, args...)}
	}
	if depth > maxDepth {
		return fail("depth", "nested more than %d levels", maxDepth)
	}
	if len(s.BSONType) > 0 {
		ok := false
		for _, t := range s.BSONType {
			if typeMatches(t, v.Type) {
				ok = true
				break
			}
		}
		if !ok {
			return fail("bsonType", "want %s, got %s", strings.Join(s.BSONType, " or "), typeName(v.Type))
		}
	}
	if len(s.Enum) > 0 && !enumHas(s.Enum, v) {
		return fail("enum", "want one of %v", s.Enum)
	}
	switch v.Type {
	case bson.TypeString:
		str := stringBytes(v)
		n := utf8.RuneCount(str)
		if s.MinLength != nil && n < *s.MinLength {
			return fail("minLength", "want at least %d characters, got %d", *s.MinLength, n)
		}
		if s.MaxLength != nil && n > *s.MaxLength {
			return fail("maxLength", "want at most %d characters, got %d", *s.MaxLength, n)
		}
		if s.re != nil && !s.re.match(str) {
			return fail("pattern", "must match %s", s.Pattern)
		}
	case bson.TypeInt32, bson.TypeInt64, bson.TypeDouble:
		f := numValue(v)
		if s.Minimum != nil && !(f >= *s.Minimum) {
			return fail("minimum", "want >= %v, got %v", *s.Minimum, f)
		}
		if s.Maximum != nil && !(f <= *s.Maximum) {
			return fail("maximum", "want <= %v, got %v", *s.Maximum, f)
		}
	case bson.TypeEmbeddedDocument:
		return s.validateDoc(coll, fp.String(), v.Document(), depth)
	case bson.TypeArray:
		var buf [16]bsoncore.Element
		vals, err := elements(bson.Raw(v.Value), buf[:0])
		if err != nil {
			return fail("bsonType", "malformed array: %v", err)
		}
		if s.MinItems != nil && len(vals) < *s.MinItems {
			return fail("minItems", "want at least %d items, got %d", *s.MinItems, len(vals))
		}
		if s.MaxItems != nil && len(vals) > *s.MaxItems {
			return fail("maxItems", "want at most %d items, got %d", *s.MaxItems, len(vals))
		}
		if s.Items != nil {
			// The array's path is spelled out only for items that need it
			// (documents and arrays carry it down) or fail: scalar items,
			// such as Lucid's roles, cost no allocation.
			parent, spelled := "", false
			for i, e := range vals {
				iv := rawValue(e.Value())
				if iv.Type != bson.TypeEmbeddedDocument && iv.Type != bson.TypeArray {
					if ve := s.Items.validate(coll, fieldPath{index: i}, iv, depth+1); ve != nil {
						ve.Field = join(fp.String(), strconv.Itoa(i))
						return ve
					}
					continue
				}
				if !spelled {
					parent, spelled = fp.String(), true
				}
				if ve := s.Items.validate(coll, fieldPath{parent: parent, index: i}, iv, depth+1); ve != nil {
					return ve
				}
			}
		}
	}
	return nil
}

func (s *JSONSchema) validateDoc(coll, path string, doc bson.Raw, depth int) *ValidationError {
	var buf [32]bsoncore.Element
	elems, err := elements(doc, buf[:0])
	if err != nil {
		return &ValidationError{Collection: coll, Field: path, Rule: "bsonType", Detail: "malformed document: " + err.Error()}
	}
	// Keys are compared as bytes: string(b) in a comparison or a map index
	// does not allocate, RawElement.Key would for every field.
	for _, r := range s.Required {
		found := false
		for _, e := range elems {
			if string(e.KeyBytes()) == r {
				found = true
				break
			}
		}
		if !found {
			return &ValidationError{Collection: coll, Field: join(path, r), Rule: "required", Detail: "missing"}
		}
	}
	for _, e := range elems {
		k := e.KeyBytes()
		p, ok := s.Properties[string(k)]
		if !ok {
			if s.AdditionalProperties != nil && !*s.AdditionalProperties && !(path == "" && string(k) == "_id") {
				return &ValidationError{Collection: coll, Field: join(path, string(k)), Rule: "additionalProperties", Detail: "not allowed"}
			}
			continue
		}
		if ve := p.validate(coll, fieldPath{parent: path, key: k}, rawValue(e.Value()), depth+1); ve != nil {
			return ve
		}
	}
	return nil
}

// elements appends doc's elements to buf: unlike bson.Raw.Elements it
// allocates nothing for documents of up to cap(buf) fields.
func elements(doc bson.Raw, buf []bsoncore.Element) ([]bsoncore.Element, error) {
	length, rest, ok := bsoncore.ReadLength(doc)
	if !ok || length < 5 || int(length) > len(doc) {
		return nil, bsoncore.NewInsufficientBytesError(doc, rest)
	}
	rest = doc[4 : length-1]
	for len(rest) > 0 {
		var e bsoncore.Element
		e, rest, ok = bsoncore.ReadElement(rest)
		if !ok {
			return nil, bsoncore.NewInsufficientBytesError(doc, rest)
		}
		buf = append(buf, e)
	}
	return buf, nil
}

func rawValue(v bsoncore.Value) bson.RawValue {
	return bson.RawValue{Type: bson.Type(v.Type), Value: v.Data}
}

// stringBytes returns the bytes of a BSON string value without copying
// them into a Go string (nil for anything else or a malformed value).
func stringBytes(v bson.RawValue) []byte {
	if v.Type != bson.TypeString || len(v.Value) < 5 {
		return nil
	}
	n := uint64(binary.LittleEndian.Uint32(v.Value)) // length with the NUL
	if n < 1 || 4+n > uint64(len(v.Value)) {
		return nil
	}
	return v.Value[4 : 4+n-1]
}

func numValue(v bson.RawValue) float64 {
	switch v.Type {
	case bson.TypeInt32:
		return float64(v.Int32())
	case bson.TypeInt64:
		return float64(v.Int64())
	case bson.TypeDouble:
		return v.Double()
	}
	return math.NaN()
}

func enumHas(enum []any, v bson.RawValue) bool {
	for _, e := range enum {
		switch x := e.(type) {
		case string:
			if v.Type == bson.TypeString && string(stringBytes(v)) == x {
				return true
			}
		case bool:
			if b, ok := v.BooleanOK(); ok && b == x {
				return true
			}
		case int:
			if f := numValue(v); f == float64(x) {
				return true
			}
		case int32:
			if f := numValue(v); f == float64(x) {
				return true
			}
		case int64:
			if f := numValue(v); f == float64(x) {
				return true
			}
		case float64:
			if f := numValue(v); f == x {
				return true
			}
		}
	}
	return false
}

// at returns the sub-schema for a dotted path, following properties and,
// for numeric segments or positional operators ($, $[], $[id]), items.
// ok is false when the path leaves the schema; closed then says whether the
// object where it left forbids additional properties.
func (s *JSONSchema) at(path string) (sub *JSONSchema, parent *JSONSchema, last string, ok, closed bool) {
	cur := s
	segs := strings.Split(path, ".")
	for i, seg := range segs {
		if cur == nil {
			return nil, nil, "", false, false
		}
		parent, last = cur, seg
		if cur.Items != nil && (isIndex(seg) || seg == "$" || strings.HasPrefix(seg, "$[")) {
			cur = cur.Items
			continue
		}
		p, found := cur.Properties[seg]
		if !found {
			closed = cur.AdditionalProperties != nil && !*cur.AdditionalProperties && !(i == 0 && seg == "_id")
			return nil, parent, seg, false, closed
		}
		cur = p
	}
	return cur, parent, last, true, false
}

func isIndex(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func (s *JSONSchema) requires(name string) bool { return slices.Contains(s.Required, name) }
