package mongostore

import (
	"strings"

	"github.com/HamiGames/lucid-data/lucidkeys"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// toRaw marshals a document (struct, map, bson.D, bson.Raw) once; the
// result is what the driver sends, so validating it costs no second
// encoding.
func toRaw(op string, doc any) (bson.Raw, error) {
	switch v := doc.(type) {
	case nil:
		return nil, invalidf(op, "document is nil")
	case bson.Raw:
		if err := v.Validate(); err != nil {
			return nil, &Error{Kind: ErrInvalid, Op: op, Msg: "malformed BSON", Err: err}
		}
		return v, nil
	case []byte:
		r := bson.Raw(v)
		if err := r.Validate(); err != nil {
			return nil, &Error{Kind: ErrInvalid, Op: op, Msg: "malformed BSON", Err: err}
		}
		return r, nil
	}
	b, err := bson.Marshal(doc)
	if err != nil {
		return nil, &Error{Kind: ErrInvalid, Op: op, Msg: "cannot encode document", Err: err}
	}
	return b, nil
}

// ValidateDocument checks a whole document (an insert or a replacement)
// against the validator of coll. Collections without a spec or validator
// accept anything. The error is a *ValidationError (ErrValidation) naming
// the field and the rule, or ErrInvalid when doc cannot be encoded.
func (s *Schema) ValidateDocument(coll lucidkeys.Collection, doc any) error {
	raw, err := toRaw(string(coll)+".validate", doc)
	if err != nil {
		return err
	}
	return s.validateRaw(coll, raw)
}

func (s *Schema) validateRaw(coll lucidkeys.Collection, raw bson.Raw) error {
	c, ok := s.byName[coll]
	if !ok || c.Validator == nil {
		return nil
	}
	if ve := c.Validator.validateDoc(string(coll), "", raw, 0); ve != nil {
		return ve
	}
	return nil
}

// ValidateUpdate checks an update document's operators against the
// validator of coll: values under $set and $setOnInsert (dotted paths
// included, positional segments follow array items) must match the schema
// at their path and may not add properties a closed object forbids; $unset
// and $rename may not remove a required field; $inc and $mul need a numeric
// field; $push and $addToSet values (and their $each lists) must match the
// array's items; $currentDate needs a date field; $min and $max values are
// checked like $set. A pipeline update (an array) is not checked. Updates
// without operators are rejected with ErrInvalid: use ReplaceOne.
func (s *Schema) ValidateUpdate(coll lucidkeys.Collection, update any) error {
	op := string(coll) + ".validateUpdate"
	switch update.(type) {
	case bson.A, []any, []bson.D, []bson.M, mongo.Pipeline:
		return nil
	}
	raw, err := toRaw(op, update)
	if err != nil {
		return err
	}
	return s.validateUpdateRaw(coll, raw)
}

func (s *Schema) validateUpdateRaw(coll lucidkeys.Collection, raw bson.Raw) error {
	op := string(coll) + ".update"
	elems, err := raw.Elements()
	if err != nil {
		return &Error{Kind: ErrInvalid, Op: op, Msg: "malformed update", Err: err}
	}
	if len(elems) == 0 {
		return invalidf(op, "update document is empty")
	}
	for _, e := range elems {
		if !strings.HasPrefix(e.Key(), "$") {
			return invalidf(op, "update key %q is not an operator: use $set, or ReplaceOne to replace a whole document", e.Key())
		}
	}
	c, ok := s.byName[coll]
	if !ok || c.Validator == nil {
		return nil
	}
	root := c.Validator
	name := string(coll)
	for _, e := range elems {
		if e.Value().Type != bson.TypeEmbeddedDocument {
			return invalidf(op, "%s takes a document, got %s", e.Key(), typeName(e.Value().Type))
		}
		fields, err := e.Value().Document().Elements()
		if err != nil {
			return &Error{Kind: ErrInvalid, Op: op, Msg: "malformed " + e.Key(), Err: err}
		}
		for _, f := range fields {
			path, val := f.Key(), f.Value()
			if path == "" || strings.HasPrefix(path, "$") || strings.Contains(path, "..") {
				return invalidf(op, "%s: field path %q is empty, starts with $ or has an empty segment", e.Key(), path)
			}
			sub, parent, last, found, closed := root.at(path)
			if !found && closed {
				return &ValidationError{Collection: name, Field: path, Rule: "additionalProperties", Detail: "not allowed (" + e.Key() + ")"}
			}
			switch e.Key() {
			case "$set", "$setOnInsert", "$min", "$max":
				if found {
					if ve := sub.validate(name, atPath(path), val, 0); ve != nil {
						return ve
					}
				}
			case "$unset":
				if found && parent != nil && parent.requires(last) {
					return &ValidationError{Collection: name, Field: path, Rule: "required", Detail: "cannot $unset a required field"}
				}
			case "$rename":
				if found && parent != nil && parent.requires(last) {
					return &ValidationError{Collection: name, Field: path, Rule: "required", Detail: "cannot $rename a required field away"}
				}
				if to, ok := val.StringValueOK(); ok {
					if _, _, _, found2, closed2 := root.at(to); !found2 && closed2 {
						return &ValidationError{Collection: name, Field: to, Rule: "additionalProperties", Detail: "not allowed ($rename target)"}
					}
				}
			case "$inc", "$mul":
				if found && len(sub.BSONType) > 0 && !allowsNumber(sub.BSONType) {
					return &ValidationError{Collection: name, Field: path, Rule: "bsonType", Detail: e.Key() + " needs a numeric field, schema wants " + strings.Join(sub.BSONType, " or ")}
				}
				if !isNumeric(val.Type) {
					return invalidf(op, "%s %s: value must be a number, got %s", e.Key(), path, typeName(val.Type))
				}
			case "$currentDate":
				if found && len(sub.BSONType) > 0 && !containsStr(sub.BSONType, "date") && !containsStr(sub.BSONType, "timestamp") {
					return &ValidationError{Collection: name, Field: path, Rule: "bsonType", Detail: "$currentDate sets a date, schema wants " + strings.Join(sub.BSONType, " or ")}
				}
			case "$push", "$addToSet":
				if found && sub.Items != nil {
					vals := []bson.RawValue{val}
					if val.Type == bson.TypeEmbeddedDocument {
						if each, err := val.Document().LookupErr("$each"); err == nil {
							if each.Type != bson.TypeArray {
								return invalidf(op, "%s %s: $each must be an array", e.Key(), path)
							}
							vals, _ = each.Array().Values()
						}
					}
					for _, v := range vals {
						if ve := sub.Items.validate(name, atPath(path+".$"), v, 0); ve != nil {
							return ve
						}
					}
				}
			}
		}
	}
	return nil
}

func allowsNumber(types []string) bool {
	for _, t := range types {
		switch t {
		case "number", "int", "long", "double", "decimal":
			return true
		}
	}
	return false
}

func isNumeric(t bson.Type) bool {
	return t == bson.TypeInt32 || t == bson.TypeInt64 || t == bson.TypeDouble || t == bson.TypeDecimal128
}

func containsStr(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
