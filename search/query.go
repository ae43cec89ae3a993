package search

import (
	"encoding/json"
	"strings"
)

// Query is a query clause of the typed builder. Every Query renders to the
// engine's query DSL with json.Marshal. User text only ever appears as the
// value of match-style queries, never as query_string syntax.
type Query interface {
	json.Marshaler
	query()
}

type obj = map[string]any

// Bool combines clauses: all Must and Filter must match (Filter without
// scoring), at least MinimumShouldMatch of Should (default: one if there
// is no Must or Filter), no MustNot.
type Bool struct {
	Must, Filter, Should, MustNot []Query
	MinimumShouldMatch            string
}

// Term matches documents whose Field equals Value exactly (keyword, number,
// boolean, date fields).
type Term struct {
	Field string
	Value any
}

// Terms matches documents whose Field equals any of Values.
type Terms struct {
	Field  string
	Values []any
}

// Range matches documents whose Field lies in the range; nil bounds are
// open. Format applies to date strings.
type Range struct {
	Field    string
	GTE, GT  any
	LTE, LT  any
	Format   string
	TimeZone string
}

// Match is an analysed full-text match of Text on Field.
type Match struct {
	Field     string
	Text      string
	Operator  string // "or" (default) or "and"
	Fuzziness string // "AUTO", "0", "1", "2"; empty for none
}

// MultiMatch is Match over several fields, e.g. {"title^2", "description"}.
type MultiMatch struct {
	Text      string
	Fields    []string
	Type      string // "best_fields" (default), "most_fields", "phrase", ...
	Operator  string
	Fuzziness string
}

// Prefix matches keyword values starting with Value.
type Prefix struct {
	Field string
	Value string
}

// MatchAll matches every document.
type MatchAll struct{}

// SimpleQueryString is the engine's simple_query_string: it never fails on
// syntax, so hostile text cannot break the request; operators (+ | - " * ~)
// are honoured. Prefer Match/MultiMatch for text from users.
type SimpleQueryString struct {
	Text   string
	Fields []string
}

// QueryString is a query_string query whose Text is escaped with
// EscapeQueryString first, so user text is always literal: it exists for
// fields and analyzers that only query_string reaches.
type QueryString struct {
	Text   string
	Fields []string
}

// RawQuery is the escape hatch: any query DSL clause as JSON.
type RawQuery json.RawMessage

func (Bool) query()              {}
func (Term) query()              {}
func (Terms) query()             {}
func (Range) query()             {}
func (Match) query()             {}
func (MultiMatch) query()        {}
func (Prefix) query()            {}
func (MatchAll) query()          {}
func (SimpleQueryString) query() {}
func (QueryString) query()       {}
func (RawQuery) query()          {}

// MarshalJSON renders {"bool": {...}}.
func (q Bool) MarshalJSON() ([]byte, error) { return appendQuery(nil, q) }

// MarshalJSON renders {"term": {field: {"value": v}}}.
func (q Term) MarshalJSON() ([]byte, error) { return appendQuery(nil, q) }

// MarshalJSON renders {"terms": {field: [...]}}.
func (q Terms) MarshalJSON() ([]byte, error) { return appendQuery(nil, q) }

// MarshalJSON renders {"range": {field: {...}}}.
func (q Range) MarshalJSON() ([]byte, error) { return appendQuery(nil, q) }

// MarshalJSON renders {"match": {field: {"query": text, ...}}}.
func (q Match) MarshalJSON() ([]byte, error) { return appendQuery(nil, q) }

// MarshalJSON renders {"multi_match": {...}}.
func (q MultiMatch) MarshalJSON() ([]byte, error) { return appendQuery(nil, q) }

// MarshalJSON renders {"prefix": {field: {"value": v}}}.
func (q Prefix) MarshalJSON() ([]byte, error) { return appendQuery(nil, q) }

// MarshalJSON renders {"match_all": {}}.
func (MatchAll) MarshalJSON() ([]byte, error) { return []byte(`{"match_all":{}}`), nil }

// MarshalJSON renders {"simple_query_string": {...}}.
func (q SimpleQueryString) MarshalJSON() ([]byte, error) { return appendQuery(nil, q) }

// MarshalJSON renders {"query_string": {...}} with Text escaped.
func (q QueryString) MarshalJSON() ([]byte, error) { return appendQuery(nil, q) }

// MarshalJSON returns the raw clause, or match_all when empty.
func (q RawQuery) MarshalJSON() ([]byte, error) {
	if len(q) == 0 {
		return []byte(`{"match_all":{}}`), nil
	}
	return json.RawMessage(q).MarshalJSON()
}

// queryStringSpecial are the characters with meaning in query_string
// syntax; '&' and '|' are only special doubled but are escaped singly too.
const queryStringSpecial = `\+-=&|><!(){}[]^"~*?:/`

// EscapeQueryString makes text a literal for query_string: every special
// character is backslash-escaped, '<' and '>' (which cannot be escaped)
// are dropped, and the words AND, OR and NOT are lowercased so they are
// not operators. The result parses as a query_string on any input.
func EscapeQueryString(text string) string {
	var b strings.Builder
	b.Grow(len(text) + 8)
	for _, r := range text {
		switch {
		case r == '<' || r == '>':
			continue
		case strings.ContainsRune(queryStringSpecial, r):
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	words := strings.Fields(b.String())
	for i, w := range words {
		if w == "AND" || w == "OR" || w == "NOT" {
			words[i] = strings.ToLower(w)
		}
	}
	return strings.Join(words, " ")
}
