package search

import (
	"encoding/json"
	"time"
)

// Agg is an aggregation of the typed builder; its result is read from
// SearchResult.Aggs with the accessor of the same kind.
type Agg interface {
	json.Marshaler
	agg()
}

// TermsAgg buckets documents by the values of Field (keyword, number).
type TermsAgg struct {
	Field string
	Size  int // default 10
}

// DateHistogramAgg buckets documents by time.
type DateHistogramAgg struct {
	Field            string
	CalendarInterval string // "minute", "hour", "day", "week", "month", "quarter", "year"
	FixedInterval    string // e.g. "30m", "12h"; used when CalendarInterval is empty
	TimeZone         string
	MinDocCount      int
}

// StatsAgg computes count, min, max, avg and sum of a numeric Field.
type StatsAgg struct{ Field string }

// CardinalityAgg estimates the number of distinct values of Field.
type CardinalityAgg struct {
	Field              string
	PrecisionThreshold int
}

func (TermsAgg) agg()         {}
func (DateHistogramAgg) agg() {}
func (StatsAgg) agg()         {}
func (CardinalityAgg) agg()   {}

// MarshalJSON renders {"terms": {...}}.
func (a TermsAgg) MarshalJSON() ([]byte, error) {
	o := obj{"field": a.Field}
	if a.Size > 0 {
		o["size"] = a.Size
	}
	return json.Marshal(obj{"terms": o})
}

// MarshalJSON renders {"date_histogram": {...}}.
func (a DateHistogramAgg) MarshalJSON() ([]byte, error) {
	o := obj{"field": a.Field, "min_doc_count": a.MinDocCount}
	switch {
	case a.CalendarInterval != "":
		o["calendar_interval"] = a.CalendarInterval
	case a.FixedInterval != "":
		o["fixed_interval"] = a.FixedInterval
	default:
		o["calendar_interval"] = "day"
	}
	if a.TimeZone != "" {
		o["time_zone"] = a.TimeZone
	}
	return json.Marshal(obj{"date_histogram": o})
}

// MarshalJSON renders {"stats": {...}}.
func (a StatsAgg) MarshalJSON() ([]byte, error) {
	return json.Marshal(obj{"stats": obj{"field": a.Field}})
}

// MarshalJSON renders {"cardinality": {...}}.
func (a CardinalityAgg) MarshalJSON() ([]byte, error) {
	o := obj{"field": a.Field}
	if a.PrecisionThreshold > 0 {
		o["precision_threshold"] = a.PrecisionThreshold
	}
	return json.Marshal(obj{"cardinality": o})
}

// Aggregations holds the raw aggregation results of a search by name; the
// accessors decode one into its typed result.
type Aggregations map[string]json.RawMessage

func (a Aggregations) decode(name string, dst any) error {
	raw, ok := a[name]
	if !ok {
		return &Error{Op: "aggregation", Reason: "no aggregation named " + name + " in the result", kind: ErrNotFound}
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return &Error{Op: "aggregation", Reason: "cannot decode aggregation " + name, kind: ErrInvalid, cause: err}
	}
	return nil
}

// TermsBucket is one value of a terms aggregation.
type TermsBucket struct {
	Key         any    `json:"key"` // string, or float64 for numeric fields
	KeyAsString string `json:"key_as_string"`
	DocCount    int64  `json:"doc_count"`
}

// TermsResult is the result of a TermsAgg.
type TermsResult struct {
	Buckets          []TermsBucket `json:"buckets"`
	SumOtherDocCount int64         `json:"sum_other_doc_count"`
	DocCountError    int64         `json:"doc_count_error_upper_bound"`
}

// Terms decodes the TermsAgg result called name.
func (a Aggregations) Terms(name string) (*TermsResult, error) {
	var r TermsResult
	return &r, a.decode(name, &r)
}

// DateBucket is one interval of a date histogram.
type DateBucket struct {
	Time        time.Time // start of the interval, UTC
	KeyAsString string
	DocCount    int64
}

// DateHistogramResult is the result of a DateHistogramAgg.
type DateHistogramResult struct {
	Buckets []DateBucket
}

// DateHistogram decodes the DateHistogramAgg result called name.
func (a Aggregations) DateHistogram(name string) (*DateHistogramResult, error) {
	var r struct {
		Buckets []struct {
			Key         int64  `json:"key"`
			KeyAsString string `json:"key_as_string"`
			DocCount    int64  `json:"doc_count"`
		} `json:"buckets"`
	}
	if err := a.decode(name, &r); err != nil {
		return nil, err
	}
	out := &DateHistogramResult{Buckets: make([]DateBucket, len(r.Buckets))}
	for i, b := range r.Buckets {
		out.Buckets[i] = DateBucket{Time: time.UnixMilli(b.Key).UTC(), KeyAsString: b.KeyAsString, DocCount: b.DocCount}
	}
	return out, nil
}

// StatsResult is the result of a StatsAgg; Min, Max, Avg are nil when no
// document has the field.
type StatsResult struct {
	Count int64    `json:"count"`
	Min   *float64 `json:"min"`
	Max   *float64 `json:"max"`
	Avg   *float64 `json:"avg"`
	Sum   float64  `json:"sum"`
}

// Stats decodes the StatsAgg result called name.
func (a Aggregations) Stats(name string) (*StatsResult, error) {
	var r StatsResult
	return &r, a.decode(name, &r)
}

// Cardinality decodes the CardinalityAgg result called name: the
// approximate number of distinct values.
func (a Aggregations) Cardinality(name string) (int64, error) {
	var r struct {
		Value int64 `json:"value"`
	}
	return r.Value, a.decode(name, &r)
}

// Suggester is a suggestion request of the typed builder.
type Suggester interface {
	json.Marshaler
	suggester()
}

// TermSuggest proposes spelling corrections of each word of Text from the
// terms of Field.
type TermSuggest struct {
	Text  string
	Field string
	Size  int
}

// CompletionSuggest completes Prefix from a completion Field (search-as-you-
// type), optionally fuzzy.
type CompletionSuggest struct {
	Prefix string
	Field  string
	Size   int
	Fuzzy  bool
}

func (TermSuggest) suggester()       {}
func (CompletionSuggest) suggester() {}

// MarshalJSON renders {"text": ..., "term": {...}}.
func (s TermSuggest) MarshalJSON() ([]byte, error) {
	o := obj{"field": s.Field, "suggest_mode": "always"}
	if s.Size > 0 {
		o["size"] = s.Size
	}
	return json.Marshal(obj{"text": s.Text, "term": o})
}

// MarshalJSON renders {"prefix": ..., "completion": {...}}.
func (s CompletionSuggest) MarshalJSON() ([]byte, error) {
	o := obj{"field": s.Field, "skip_duplicates": true}
	if s.Size > 0 {
		o["size"] = s.Size
	}
	if s.Fuzzy {
		o["fuzzy"] = obj{"fuzziness": "AUTO"}
	}
	return json.Marshal(obj{"prefix": s.Prefix, "completion": o})
}

// Suggestions are the suggestion results by name: one entry per analysed
// token of the text (one for completion).
type Suggestions map[string][]SuggestEntry

// SuggestEntry is the suggestions for one token.
type SuggestEntry struct {
	Text    string          `json:"text"`
	Offset  int             `json:"offset"`
	Length  int             `json:"length"`
	Options []SuggestOption `json:"options"`
}

// SuggestOption is one suggestion. For completion suggestions the
// suggested document is in ID, Index and Source.
type SuggestOption struct {
	Text   string
	Score  float64
	Freq   int64
	ID     string
	Index  string
	Source json.RawMessage
}

// UnmarshalJSON reads both the term ("score", "freq") and completion
// ("_score", "_id", "_source") shapes.
func (o *SuggestOption) UnmarshalJSON(b []byte) error {
	var r struct {
		Text   string          `json:"text"`
		Score  *float64        `json:"score"`
		UScore *float64        `json:"_score"`
		Freq   int64           `json:"freq"`
		ID     string          `json:"_id"`
		Index  string          `json:"_index"`
		Source json.RawMessage `json:"_source"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return err
	}
	*o = SuggestOption{Text: r.Text, Freq: r.Freq, ID: r.ID, Index: r.Index, Source: r.Source}
	switch {
	case r.Score != nil:
		o.Score = *r.Score
	case r.UScore != nil:
		o.Score = *r.UScore
	}
	return nil
}
