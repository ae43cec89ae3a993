package mongostore

import (
	"embed"
	"encoding/json"
	"fmt"
	"math"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// ParseJSONSchema reads a MongoDB $jsonSchema document into a JSONSchema, so
// a service can define or extend a collection's schema with the document it
// already has (for example a .json file next to its code, or the validator
// of a collection) instead of Go code. doc is JSON or extended JSON ([]byte,
// json.RawMessage or string), bson.Raw, bson.D, bson.M or map[string]any;
// a validator document {"$jsonSchema": {...}} is unwrapped.
//
// Every keyword of the supported subset is read (bsonType as a string or an
// array, required, properties, additionalProperties as a bool, enum of
// strings, numbers and bools, pattern, minLength, maxLength, minimum,
// maximum, items as one schema, minItems, maxItems, title, description).
// Any other keyword (type, oneOf, exclusiveMinimum, ...) is refused with
// ErrInvalid naming it and its path: a rule the client could not check
// would make client-side and server validation disagree. Patterns and
// bsonType names are checked as NewSchema checks them.
func ParseJSONSchema(doc any) (*JSONSchema, error) {
	var raw bson.Raw
	switch v := doc.(type) {
	case nil:
		return nil, invalidf("schema", "$jsonSchema document is nil")
	case []byte:
		if err := bson.UnmarshalExtJSON(v, false, &raw); err != nil {
			return nil, &Error{Kind: ErrInvalid, Op: "schema", Msg: "$jsonSchema is not a JSON object", Err: err}
		}
	case json.RawMessage:
		return ParseJSONSchema([]byte(v))
	case string:
		return ParseJSONSchema([]byte(v))
	case bson.Raw:
		if err := v.Validate(); err != nil {
			return nil, &Error{Kind: ErrInvalid, Op: "schema", Msg: "malformed BSON", Err: err}
		}
		raw = v
	default:
		b, err := bson.Marshal(doc)
		if err != nil {
			return nil, &Error{Kind: ErrInvalid, Op: "schema", Msg: fmt.Sprintf("cannot encode $jsonSchema of type %T", doc), Err: err}
		}
		raw = b
	}
	if elems, err := raw.Elements(); err == nil && len(elems) == 1 && elems[0].Key() == "$jsonSchema" {
		d, ok := elems[0].Value().DocumentOK()
		if !ok {
			return nil, invalidf("schema", "$jsonSchema is not a document")
		}
		raw = d
	}
	s, err := parseSchema(raw, "", 0)
	if err != nil {
		return nil, err
	}
	if err := s.compile(""); err != nil {
		return nil, &Error{Kind: ErrInvalid, Op: "schema", Err: err}
	}
	return s, nil
}

func parseSchema(doc bson.Raw, path string, depth int) (*JSONSchema, error) {
	if depth > maxDepth {
		return nil, invalidf("schema", "$jsonSchema nested more than %d levels", maxDepth)
	}
	elems, err := doc.Elements()
	if err != nil {
		return nil, &Error{Kind: ErrInvalid, Op: "schema", Msg: "malformed $jsonSchema", Err: err}
	}
	at := func(k string) string {
		if path == "" {
			return k
		}
		return path + "." + k
	}
	bad := func(k, format string, args ...any) error {
		return invalidf("schema", "$jsonSchema %s: %s", at(k), fmt.Sprintf(format, args...))
	}
	s := &JSONSchema{}
	for _, e := range elems {
		k, v := e.Key(), e.Value()
		switch k {
		case "bsonType":
			if str, ok := v.StringValueOK(); ok {
				s.BSONType = []string{str}
				continue
			}
			ss, err := stringList(v)
			if err != nil || len(ss) == 0 {
				return nil, bad(k, "want a string or a non-empty array of strings")
			}
			s.BSONType = ss
		case "required":
			ss, err := stringList(v)
			if err != nil {
				return nil, bad(k, "want an array of strings")
			}
			s.Required = ss
		case "properties":
			d, ok := v.DocumentOK()
			if !ok {
				return nil, bad(k, "want a document")
			}
			props, err := d.Elements()
			if err != nil {
				return nil, bad(k, "malformed: %v", err)
			}
			s.Properties = make(map[string]*JSONSchema, len(props))
			for _, p := range props {
				pd, ok := p.Value().DocumentOK()
				if !ok {
					return nil, bad(k+"."+p.Key(), "want a document")
				}
				sub, err := parseSchema(pd, at(p.Key()), depth+1)
				if err != nil {
					return nil, err
				}
				s.Properties[p.Key()] = sub
			}
		case "additionalProperties":
			b, ok := v.BooleanOK()
			if !ok {
				return nil, bad(k, "only a bool is supported")
			}
			s.AdditionalProperties = &b
		case "enum":
			a, ok := v.ArrayOK()
			if !ok {
				return nil, bad(k, "want an array")
			}
			vals, _ := a.Values()
			for _, x := range vals {
				switch x.Type {
				case bson.TypeString:
					s.Enum = append(s.Enum, x.StringValue())
				case bson.TypeBoolean:
					s.Enum = append(s.Enum, x.Boolean())
				case bson.TypeInt32:
					s.Enum = append(s.Enum, int64(x.Int32()))
				case bson.TypeInt64:
					s.Enum = append(s.Enum, x.Int64())
				case bson.TypeDouble:
					s.Enum = append(s.Enum, x.Double())
				default:
					return nil, bad(k, "values of type %s are not supported", typeName(x.Type))
				}
			}
		case "pattern":
			str, ok := v.StringValueOK()
			if !ok {
				return nil, bad(k, "want a string")
			}
			s.Pattern = str
		case "title", "description":
			str, ok := v.StringValueOK()
			if !ok {
				return nil, bad(k, "want a string")
			}
			if k == "title" {
				s.Title = str
			} else {
				s.Description = str
			}
		case "minLength", "maxLength", "minItems", "maxItems":
			f, ok := number(v)
			if !ok || f < 0 || f != math.Trunc(f) || f > math.MaxInt32 {
				return nil, bad(k, "want a non-negative integer")
			}
			n := int(f)
			switch k {
			case "minLength":
				s.MinLength = &n
			case "maxLength":
				s.MaxLength = &n
			case "minItems":
				s.MinItems = &n
			default:
				s.MaxItems = &n
			}
		case "minimum", "maximum":
			f, ok := number(v)
			if !ok || math.IsNaN(f) {
				return nil, bad(k, "want a number")
			}
			if k == "minimum" {
				s.Minimum = &f
			} else {
				s.Maximum = &f
			}
		case "items":
			d, ok := v.DocumentOK()
			if !ok {
				return nil, bad(k, "only a single schema (a document) is supported")
			}
			sub, err := parseSchema(d, path+"[]", depth+1)
			if err != nil {
				return nil, err
			}
			s.Items = sub
		default:
			return nil, bad(k, "keyword not supported by mongostore's client-side validation")
		}
	}
	return s, nil
}

func stringList(v bson.RawValue) ([]string, error) {
	a, ok := v.ArrayOK()
	if !ok {
		return nil, fmt.Errorf("not an array")
	}
	vals, err := a.Values()
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(vals))
	for _, x := range vals {
		s, ok := x.StringValueOK()
		if !ok {
			return nil, fmt.Errorf("not a string")
		}
		out = append(out, s)
	}
	return out, nil
}

func number(v bson.RawValue) (float64, bool) {
	switch v.Type {
	case bson.TypeInt32, bson.TypeInt64, bson.TypeDouble:
		return numValue(v), true
	}
	return 0, false
}

// lucidSchemaFiles holds the $jsonSchema of Lucid's five schema files
// (database/schemas/*_schema.js of HamiGames/Lucid), translated to JSON
// keyword for keyword, descriptions included: rendered back, each is the
// validator Lucid's scripts install, so EnsureSchema finds it unchanged.
//
//go:embed lucidschema/*.json
var lucidSchemaFiles embed.FS

// lucidValidator returns the parsed Lucid $jsonSchema of coll; it panics on
// an embedded file that does not parse, which the tests catch.
func lucidValidator(coll string) *JSONSchema {
	b, err := lucidSchemaFiles.ReadFile("lucidschema/" + coll + ".json")
	if err != nil {
		panic("mongostore: embedded Lucid schema " + coll + ": " + err.Error())
	}
	s, err := ParseJSONSchema(b)
	if err != nil {
		panic("mongostore: embedded Lucid schema " + coll + ": " + err.Error())
	}
	return s
}
