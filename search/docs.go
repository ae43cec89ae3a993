package search

import (
	"bytes"
	"context"
	"encoding/json"

	"github.com/elastic/go-elasticsearch/v8/esapi"
)

// Refresh controls when a write becomes visible to search.
type Refresh string

// Refresh policies, as the engine's refresh parameter.
const (
	RefreshFalse   Refresh = ""         // default: visible after the next periodic refresh
	RefreshTrue    Refresh = "true"     // refresh the shard now (costly; for tests and rare writes)
	RefreshWaitFor Refresh = "wait_for" // return once a periodic refresh made it visible
)

// WriteOptions are the optional parts of a single-document write. A nil
// *WriteOptions means defaults.
type WriteOptions struct {
	Refresh Refresh
	// IfSeqNo and IfPrimaryTerm make the write conditional (optimistic
	// concurrency): it fails with ErrConflict unless the document's last
	// write had exactly this sequence number and primary term (from a
	// WriteResult or Document).
	IfSeqNo       *int64
	IfPrimaryTerm *int64
	// Create makes Index fail with ErrConflict when the id exists.
	Create bool
	// Routing sends the document to the shard of this routing value.
	Routing string
}

// Version returns options for a write conditional on a document version
// read earlier.
func Version(seqNo, primaryTerm int64) *WriteOptions {
	return &WriteOptions{IfSeqNo: &seqNo, IfPrimaryTerm: &primaryTerm}
}

// WriteResult is the engine's answer to a write.
type WriteResult struct {
	Index       string `json:"_index"`
	ID          string `json:"_id"`
	Version     int64  `json:"_version"`
	SeqNo       int64  `json:"_seq_no"`
	PrimaryTerm int64  `json:"_primary_term"`
	Result      string `json:"result"` // "created", "updated", "deleted", "noop"
}

// Document is a stored document with its concurrency token.
type Document struct {
	Index       string          `json:"_index"`
	ID          string          `json:"_id"`
	Version     int64           `json:"_version"`
	SeqNo       int64           `json:"_seq_no"`
	PrimaryTerm int64           `json:"_primary_term"`
	Found       bool            `json:"found"`
	Source      json.RawMessage `json:"_source"`
}

// maxIDBytes is the engines' limit on document ids.
const maxIDBytes = 512

// checkDoc validates the index (one name, never a pattern) and id of a
// single-document call and returns the id escaped for the URL path, as
// index names are (seg).
func checkDoc(op, index, id string, needID bool) (string, error) {
	if err := validateName(op, index); err != nil {
		return "", err
	}
	if needID && id == "" {
		return "", invalidf(op, "document id is empty")
	}
	if len(id) > maxIDBytes {
		return "", invalidf(op, "document id is %d bytes, longer than %d", len(id), maxIDBytes)
	}
	return seg(id), nil
}

// encodeDoc marshals a document; json.RawMessage and []byte must hold a
// JSON object.
func encodeDoc(op string, doc any) ([]byte, error) {
	var b []byte
	switch d := doc.(type) {
	case json.RawMessage:
		b = d
	case []byte:
		b = d
	default:
		var err error
		if b, err = json.Marshal(doc); err != nil {
			return nil, &Error{Op: op, Reason: "document is not encodable as JSON", kind: ErrInvalid, cause: err}
		}
		// json.Marshal's output is valid JSON: only its kind is in doubt.
		if len(b) == 0 || b[0] != '{' {
			return nil, invalidf(op, "document is not a JSON object")
		}
		return b, nil
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' || !json.Valid(b) {
		return nil, invalidf(op, "document is not a JSON object")
	}
	return b, nil
}

func optInt(p *int64) *int {
	if p == nil {
		return nil
	}
	v := int(*p)
	return &v
}

// Index writes doc (a struct, map, json.RawMessage or []byte holding a JSON
// object) under id, or under an engine-generated id when id is empty.
// index may be an index or a write alias, one name (never a pattern).
func (c *Client) Index(ctx context.Context, index, id string, doc any, o *WriteOptions) (*WriteResult, error) {
	eid, err := checkDoc("index", index, id, false)
	if err != nil {
		return nil, err
	}
	body, err := encodeDoc("index", doc)
	if err != nil {
		return nil, err
	}
	if o == nil {
		o = &WriteOptions{}
	}
	r := esapi.IndexRequest{
		Index: seg(index), DocumentID: eid, Body: bytes.NewReader(body), Refresh: string(o.Refresh),
		IfSeqNo: optInt(o.IfSeqNo), IfPrimaryTerm: optInt(o.IfPrimaryTerm), Routing: o.Routing,
	}
	if o.Create {
		r.OpType = "create"
	}
	var res WriteResult
	if err := c.call(ctx, "index", index, r, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// Get reads the document id and decodes its source into dst (when non-nil).
// A missing document or index is ErrNotFound.
func (c *Client) Get(ctx context.Context, index, id string, dst any) (*Document, error) {
	eid, err := checkDoc("get", index, id, true)
	if err != nil {
		return nil, err
	}
	var d Document
	if err := c.call(ctx, "get", index, esapi.GetRequest{Index: seg(index), DocumentID: eid}, &d); err != nil {
		return nil, err
	}
	if dst != nil {
		if err := json.Unmarshal(d.Source, dst); err != nil {
			return nil, &Error{Op: "get", Index: index, Reason: "cannot decode document", kind: ErrInvalid, cause: err}
		}
	}
	return &d, nil
}

// Update merges partial (a JSON object) into the document id. With
// IfSeqNo/IfPrimaryTerm it is conditional; a missing document is
// ErrNotFound.
func (c *Client) Update(ctx context.Context, index, id string, partial any, o *WriteOptions) (*WriteResult, error) {
	eid, err := checkDoc("update", index, id, true)
	if err != nil {
		return nil, err
	}
	doc, err := encodeDoc("update", partial)
	if err != nil {
		return nil, err
	}
	body, _ := json.Marshal(map[string]json.RawMessage{"doc": doc})
	if o == nil {
		o = &WriteOptions{}
	}
	var res WriteResult
	err = c.call(ctx, "update", index, esapi.UpdateRequest{
		Index: seg(index), DocumentID: eid, Body: bytes.NewReader(body), Refresh: string(o.Refresh),
		IfSeqNo: optInt(o.IfSeqNo), IfPrimaryTerm: optInt(o.IfPrimaryTerm), Routing: o.Routing,
	}, &res)
	if err != nil {
		return nil, err
	}
	return &res, nil
}

// Delete removes the document id. A missing document is ErrNotFound; with
// IfSeqNo/IfPrimaryTerm the delete is conditional.
func (c *Client) Delete(ctx context.Context, index, id string, o *WriteOptions) (*WriteResult, error) {
	eid, err := checkDoc("delete", index, id, true)
	if err != nil {
		return nil, err
	}
	if o == nil {
		o = &WriteOptions{}
	}
	var res WriteResult
	err = c.call(ctx, "delete", index, esapi.DeleteRequest{
		Index: seg(index), DocumentID: eid, Refresh: string(o.Refresh),
		IfSeqNo: optInt(o.IfSeqNo), IfPrimaryTerm: optInt(o.IfPrimaryTerm), Routing: o.Routing,
	}, &res)
	if err != nil {
		return nil, err
	}
	return &res, nil
}
