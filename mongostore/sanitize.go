package mongostore

import (
	"reflect"
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Limits on untrusted filters.
const (
	maxFilterDepth = 32
	maxFieldLen    = 256
)

// alwaysForbidden are operators that run code or expressions on the server;
// they are rejected from untrusted input whatever is allowed.
var alwaysForbidden = [...]string{"$where", "$function", "$accumulator", "$expr", "$jsonSchema", "$text", "$regex", "$options", "$comment", "$natural"}

func forbidden(op string) bool {
	for _, f := range alwaysForbidden {
		if op == f {
			return true
		}
	}
	return false
}

// safeOperators are the query operators AllowListedFilter accepts from
// untrusted input: comparisons, set membership, existence and logic.
var safeOperators = [...]string{"$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists", "$and", "$or", "$nor", "$not", "$size", "$all", "$elemMatch"}

func safeOperator(op string) bool {
	for _, s := range safeOperators {
		if op == s {
			return true
		}
	}
	return false
}

// CheckField rejects a field name from untrusted input that is empty, too
// long, not UTF-8, contains NUL, starts with "$" or has an empty dotted
// segment. The error wraps ErrInjection for "$" and ErrInvalid otherwise.
func CheckField(name string) error {
	switch {
	case name == "":
		return invalidf("filter", "field name is empty")
	case len(name) > maxFieldLen:
		return invalidf("filter", "field name is %d bytes, longer than %d", len(name), maxFieldLen)
	case !utf8.ValidString(name):
		return invalidf("filter", "field name %q is not UTF-8", name)
	case strings.ContainsRune(name, 0):
		return invalidf("filter", "field name %q contains NUL", name)
	}
	for _, seg := range strings.Split(name, ".") {
		if seg == "" {
			return invalidf("filter", "field name %q has an empty path segment", name)
		}
		if strings.HasPrefix(seg, "$") {
			return injectionf("field name %q starts with $", name)
		}
	}
	return nil
}

// CheckValue rejects a value from untrusted input that is, or contains at
// any depth, a document with a "$"-prefixed key (so {"$ne": ""} sent where
// a string was expected cannot become an operator), and values nested more
// than 32 levels. Plain strings are values, even when they start with "$".
//
// Values whose BSON type makes the server do more than compare are refused
// with ErrInjection: regular expressions (bson.Regex, extended JSON
// $regularExpression; in {$in: [...]} or as a field's value the server
// matches them as patterns, so {"pw": /^s3/} guesses a secret prefix by
// prefix, and PCRE patterns can backtrack for a long time) and JavaScript
// (bson.JavaScript, bson.CodeWithScope, $code). A caller who wants a
// pattern asks for it with Filter.Regex. The deprecated and internal types
// bson.Symbol, bson.Undefined, bson.DBPointer, bson.MinKey and bson.MaxKey
// are refused with ErrInvalid: no client has a reason to send them, MinKey
// and MaxKey turn a range into "every value", and FerretDB drops the
// connection on each of them (the SDK would retry that as Unavailable
// until the deadline).
func CheckValue(v any) error {
	return checkValue(v, 0)
}

// checkValueKey rejects a key of a document inside a value: an operator,
// or a NUL, which BSON cannot encode in a key (the driver would fail only
// when the filter is sent).
func checkValueKey(k string) error {
	if strings.HasPrefix(k, "$") {
		return injectionf("value is a document with operator key %q", k)
	}
	if strings.IndexByte(k, 0) >= 0 {
		return invalidf("filter", "value is a document with a key containing NUL: %q", k)
	}
	return nil
}

func checkValue(v any, depth int) error {
	if depth > maxFilterDepth {
		return invalidf("filter", "value nested more than %d levels", maxFilterDepth)
	}
	switch x := v.(type) {
	case nil, string, bool, int, int32, int64, float64, float32, uint8, uint16, uint32,
		bson.ObjectID, bson.DateTime, bson.Decimal128, bson.Binary:
		return nil
	case bson.D:
		for _, e := range x {
			if err := checkValueKey(e.Key); err != nil {
				return err
			}
			if err := checkValue(e.Value, depth+1); err != nil {
				return err
			}
		}
		return nil
	case bson.M:
		for k, e := range x {
			if err := checkValueKey(k); err != nil {
				return err
			}
			if err := checkValue(e, depth+1); err != nil {
				return err
			}
		}
		return nil
	case map[string]any:
		return checkValue(bson.M(x), depth)
	case bson.A:
		for _, e := range x {
			if err := checkValue(e, depth+1); err != nil {
				return err
			}
		}
		return nil
	case []any:
		return checkValue(bson.A(x), depth)
	case bson.Raw:
		return checkRaw(bson.RawValue{Type: bson.TypeEmbeddedDocument, Value: x}, depth)
	case bson.RawValue:
		return checkRaw(x, depth)
	case bson.JavaScript, bson.CodeWithScope:
		return checkType(bson.TypeJavaScript)
	case bson.Regex:
		return checkType(bson.TypeRegex)
	case bson.Symbol:
		// A string kind the reflect fast path below would let through.
		return checkType(bson.TypeSymbol)
	}
	// Anything else (structs, typed maps and slices): encode and inspect.
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return nil
	}
	b, err := bson.Marshal(bson.D{{Key: "v", Value: v}})
	if err != nil {
		return invalidf("filter", "value of type %T cannot be encoded: %v", v, err)
	}
	return checkRaw(bson.Raw(b).Lookup("v"), depth)
}

// checkType refuses the BSON types an untrusted value must not have (see
// CheckValue).
func checkType(t bson.Type) error {
	switch t {
	case bson.TypeRegex:
		return injectionf("value is a regular expression (use Filter.Regex to ask for one)")
	case bson.TypeJavaScript, bson.TypeCodeWithScope:
		return injectionf("value is JavaScript code")
	case bson.TypeSymbol, bson.TypeUndefined, bson.TypeDBPointer, bson.TypeMinKey, bson.TypeMaxKey:
		return invalidf("filter", "value has the BSON type %s, which untrusted input never carries", t)
	}
	return nil
}

func checkRaw(v bson.RawValue, depth int) error {
	if depth > maxFilterDepth {
		return invalidf("filter", "value nested more than %d levels", maxFilterDepth)
	}
	if err := checkType(v.Type); err != nil {
		return err
	}
	switch v.Type {
	case bson.TypeEmbeddedDocument, bson.TypeArray:
		elems, err := bson.Raw(v.Value).Elements()
		if err != nil {
			return invalidf("filter", "malformed BSON value: %v", err)
		}
		for _, e := range elems {
			if v.Type == bson.TypeEmbeddedDocument && strings.HasPrefix(e.Key(), "$") {
				return injectionf("value is a document with operator key %q", e.Key())
			}
			if err := checkRaw(e.Value(), depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// Filter builds a query filter from untrusted field names and values. Each
// method checks its input (CheckField, CheckValue); the first error sticks
// and Build returns it, so a chain reads naturally:
//
//	f, err := mongostore.NewFilter().Eq("email", r.FormValue("email")).Build()
//
// This is the way for values from a login form or any request: a value
// that is an operator document ({"$gt": ""}), a regular expression or
// JavaScript is ErrInjection. A *Filter can also be passed to the Store
// calls as it is; its error is then their error. A Filter with no
// condition builds an empty filter, which the Store calls refuse.
type Filter struct {
	d   bson.D
	err error
}

// NewFilter returns an empty filter.
func NewFilter() *Filter { return &Filter{d: bson.D{}} }

func (f *Filter) add(field, op string, v any) *Filter {
	if f.err != nil {
		return f
	}
	if err := CheckField(field); err != nil {
		f.err = err
		return f
	}
	if err := CheckValue(v); err != nil {
		f.err = err
		return f
	}
	if op == "" {
		f.d = append(f.d, bson.E{Key: field, Value: bson.D{{Key: "$eq", Value: v}}})
	} else {
		f.d = append(f.d, bson.E{Key: field, Value: bson.D{{Key: op, Value: v}}})
	}
	return f
}

// Eq matches field == v. It is emitted as {field: {$eq: v}}, so even a
// document value is compared literally.
func (f *Filter) Eq(field string, v any) *Filter { return f.add(field, "", v) }

// Ne matches field != v.
func (f *Filter) Ne(field string, v any) *Filter { return f.add(field, "$ne", v) }

// Gt matches field > v.
func (f *Filter) Gt(field string, v any) *Filter { return f.add(field, "$gt", v) }

// Gte matches field >= v.
func (f *Filter) Gte(field string, v any) *Filter { return f.add(field, "$gte", v) }

// Lt matches field < v.
func (f *Filter) Lt(field string, v any) *Filter { return f.add(field, "$lt", v) }

// Lte matches field <= v.
func (f *Filter) Lte(field string, v any) *Filter { return f.add(field, "$lte", v) }

// In matches field equal to any of vs.
func (f *Filter) In(field string, vs ...any) *Filter { return f.add(field, "$in", bson.A(vs)) }

// Nin matches field equal to none of vs.
func (f *Filter) Nin(field string, vs ...any) *Filter { return f.add(field, "$nin", bson.A(vs)) }

// Exists matches documents that have (or lack) field.
func (f *Filter) Exists(field string, exists bool) *Filter { return f.add(field, "$exists", exists) }

// DefaultRegexMaxLen is the longest pattern Filter.Regex accepts when
// RegexOptions.MaxLen is zero, in bytes.
const DefaultRegexMaxLen = 256

// RegexOptions says how Filter.Regex builds its pattern.
type RegexOptions struct {
	// Literal quotes every metacharacter of the pattern, so it matches the
	// text as given: the choice for text typed by a user (a search box).
	Literal bool
	// Anchored matches at the start of the value only (the pattern is
	// prefixed with "^"). An anchored, case-sensitive pattern is the only
	// kind the server can answer from an index range; every other pattern
	// scans all index keys or documents.
	Anchored bool
	// CaseInsensitive sets the "i" option.
	CaseInsensitive bool
	// MaxLen bounds the pattern's length in bytes before quoting and
	// anchoring; zero means DefaultRegexMaxLen. Negative is invalid.
	MaxLen int
}

// Regex matches field against a regular expression, the one way a filter
// built by Filter carries a pattern (values given to Eq, In and the others
// are never patterns). It is emitted as {field: {$regex: p, $options: o}}.
//
// mongod evaluates patterns with PCRE, a backtracking engine with no time
// limit of its own: a pattern such as (a+)+$ against a long value can hold
// a server thread for seconds or more (ReDoS). Regex therefore refuses a
// pattern that is longer than MaxLen, is not UTF-8, holds NUL, or does not
// parse as Go's RE2 syntax (so PCRE's backreferences, lookaround, atomic
// groups, recursion and callouts are refused), and one that nests an
// unbounded repetition inside another ((a+)+, (a*b?)*, (x+){3}), the shape of the
// classic catastrophic patterns. These checks do not make every pattern
// cheap: give untrusted text with Literal, prefer Anchored, and bound the
// query with a ctx deadline (the driver sends it as maxTimeMS). Refusals
// wrap ErrInvalid.
func (f *Filter) Regex(field, pattern string, o RegexOptions) *Filter {
	if f.err != nil {
		return f
	}
	if err := CheckField(field); err != nil {
		f.err = err
		return f
	}
	p, err := regexPattern(pattern, o)
	if err != nil {
		f.err = err
		return f
	}
	d := bson.D{{Key: "$regex", Value: p}}
	if o.CaseInsensitive {
		d = append(d, bson.E{Key: "$options", Value: "i"})
	}
	f.d = append(f.d, bson.E{Key: field, Value: d})
	return f
}

func regexPattern(pattern string, o RegexOptions) (string, error) {
	maxLen := o.MaxLen
	switch {
	case maxLen < 0:
		return "", invalidf("filter", "regex MaxLen %d is negative", maxLen)
	case maxLen == 0:
		maxLen = DefaultRegexMaxLen
	}
	switch {
	case len(pattern) > maxLen:
		return "", invalidf("filter", "regex pattern is %d bytes, longer than %d", len(pattern), maxLen)
	case !utf8.ValidString(pattern):
		return "", invalidf("filter", "regex pattern is not UTF-8")
	case strings.IndexByte(pattern, 0) >= 0:
		return "", invalidf("filter", "regex pattern contains NUL")
	}
	if o.Literal {
		pattern = regexp.QuoteMeta(pattern)
	}
	if o.Anchored {
		pattern = "^" + pattern
	}
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return "", invalidf("filter", "regex pattern %q: %v", pattern, err)
	}
	if nestedRepeat(re, false) {
		return "", invalidf("filter", "regex pattern %q nests an unbounded repetition inside another (catastrophic backtracking)", pattern)
	}
	return pattern, nil
}

// nestedRepeat reports whether re holds an unbounded repetition (*, +,
// {n,}) inside another repetition that may run more than once (inRepeat:
// one encloses re). Bounded inner repetitions such as (\d{1,3}\.){3} pass.
func nestedRepeat(re *syntax.Regexp, inRepeat bool) bool {
	unbounded, repeats := false, false
	switch re.Op {
	case syntax.OpStar, syntax.OpPlus:
		unbounded, repeats = true, true
	case syntax.OpRepeat:
		unbounded, repeats = re.Max == -1, re.Max == -1 || re.Max > 1
	}
	if unbounded && inRepeat {
		return true
	}
	for _, s := range re.Sub {
		if nestedRepeat(s, inRepeat || repeats) {
			return true
		}
	}
	return false
}

// Build returns the filter, or the first error met.
func (f *Filter) Build() (bson.D, error) {
	if f.err != nil {
		return nil, f.err
	}
	return f.d, nil
}

// AllowListedFilter is an allow-listed query language for query endpoints:
// it checks a whole filter document from untrusted input (for example
// decoded from a search or admin endpoint's JSON) and returns it as bson.D.
// It is not a sanitizer that makes any input harmless: it lets the caller's
// client express comparisons, so {"email": {"$ne": null}, "password":
// {"$gt": ""}} passes, by design, and matches every user. Values from a
// login form, or anything meant to be compared for equality, go through
// Filter.Eq and its siblings instead, which refuse operator documents in
// values with ErrInjection.
//
// Field names are checked with CheckField; operators are allowed only from
// a fixed list of comparisons and logic ($eq $ne $gt $gte $lt $lte $in $nin
// $exists $and $or $nor $not $size $all $elemMatch); $where, $function,
// $accumulator, $expr, $jsonSchema, $text, $regex and every other operator
// are rejected with ErrInjection. Values are checked as CheckValue does:
// regular expressions (a bson.Regex, as bson.UnmarshalExtJSON decodes
// {"$regularExpression": ...} and raw BSON carries) and JavaScript are
// rejected with ErrInjection, the deprecated and internal BSON types with
// ErrInvalid; nesting is limited to 32 levels. A nil filter returns an
// empty bson.D, which every Store call refuses (pass All to mean every
// document).
func AllowListedFilter(filter any) (bson.D, error) {
	if filter == nil {
		return bson.D{}, nil
	}
	b, err := bson.Marshal(filter)
	if err != nil {
		return nil, invalidf("filter", "cannot encode filter of type %T: %v", filter, err)
	}
	if err := sanitizeDoc(bson.Raw(b), 0); err != nil {
		return nil, err
	}
	var d bson.D
	if err := bson.Unmarshal(b, &d); err != nil {
		return nil, invalidf("filter", "cannot decode filter: %v", err)
	}
	return d, nil
}

// sanitizeDoc checks a query document: field names, or the logical
// operators $and, $or and $nor.
func sanitizeDoc(doc bson.Raw, depth int) error {
	if depth > maxFilterDepth {
		return invalidf("filter", "filter nested more than %d levels", maxFilterDepth)
	}
	elems, err := doc.Elements()
	if err != nil {
		return invalidf("filter", "malformed filter: %v", err)
	}
	for _, e := range elems {
		k, v := e.Key(), e.Value()
		if strings.HasPrefix(k, "$") {
			if k != "$and" && k != "$or" && k != "$nor" {
				return injectionf("operator %s is not allowed in place of a field name", k)
			}
			if err := sanitizeOperator(k, v, depth); err != nil {
				return err
			}
			continue
		}
		if err := CheckField(k); err != nil {
			return err
		}
		if err := sanitizeFieldValue(v, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// sanitizeFieldValue checks the value of {field: value}: a literal, or a
// document of operators (all keys $-prefixed), never a mix.
func sanitizeFieldValue(v bson.RawValue, depth int) error {
	if depth > maxFilterDepth {
		return invalidf("filter", "filter nested more than %d levels", maxFilterDepth)
	}
	if v.Type != bson.TypeEmbeddedDocument {
		return checkRaw(v, depth) // a literal: regex and JavaScript refused there
	}
	elems, err := v.Document().Elements()
	if err != nil {
		return invalidf("filter", "malformed filter: %v", err)
	}
	ops := 0
	for _, e := range elems {
		if strings.HasPrefix(e.Key(), "$") {
			ops++
		}
	}
	if ops == 0 {
		return checkRaw(v, depth) // a literal sub-document
	}
	if ops != len(elems) {
		return injectionf("document mixes operators and fields")
	}
	for _, e := range elems {
		if err := sanitizeOperator(e.Key(), e.Value(), depth); err != nil {
			return err
		}
	}
	return nil
}

func sanitizeOperator(op string, v bson.RawValue, depth int) error {
	if forbidden(op) || !safeOperator(op) {
		return injectionf("operator %s is not allowed in untrusted filters", op)
	}
	switch op {
	case "$and", "$or", "$nor":
		if v.Type != bson.TypeArray {
			return invalidf("filter", "%s takes an array", op)
		}
		vals, err := v.Array().Values()
		if err != nil || len(vals) == 0 {
			return invalidf("filter", "%s takes a non-empty array of filters", op)
		}
		for _, x := range vals {
			doc, ok := x.DocumentOK()
			if !ok {
				return invalidf("filter", "%s takes an array of filters", op)
			}
			if err := sanitizeDoc(doc, depth+1); err != nil {
				return err
			}
		}
		return nil
	case "$elemMatch":
		doc, ok := v.DocumentOK()
		if !ok {
			return invalidf("filter", "$elemMatch takes a document")
		}
		return sanitizeDoc(doc, depth+1)
	case "$not":
		if _, ok := v.DocumentOK(); !ok {
			return invalidf("filter", "$not takes a document of operators")
		}
		return sanitizeFieldValue(v, depth+1)
	}
	return checkRaw(v, depth+1)
}
