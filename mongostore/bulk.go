package mongostore

// WriteKind says what a WriteOp does.
type WriteKind int

// Write kinds of a BulkWrite.
const (
	// OpInsert inserts Doc.
	OpInsert WriteKind = iota + 1
	// OpUpdateOne applies the operator update Doc to the first match of Filter.
	OpUpdateOne
	// OpUpdateMany applies the operator update Doc to every match of Filter.
	OpUpdateMany
	// OpUpsert is OpUpdateOne that inserts when nothing matches.
	OpUpsert
	// OpReplaceOne replaces the first match of Filter with Doc.
	OpReplaceOne
	// OpDeleteOne deletes the first match of Filter.
	OpDeleteOne
	// OpDeleteMany deletes every match of Filter.
	OpDeleteMany
)

// WriteOp is one write of a BulkWrite: the SDK's own type, so a Store
// implementation needs no driver types. Filter follows the single calls'
// rule (nil or empty is ErrInvalid; All matches every document). Build one
// with the constructors below or as a literal.
type WriteOp struct {
	Kind WriteKind
	// Filter selects the documents (every kind but OpInsert).
	Filter any
	// Doc is the document of an insert or replacement, or the update of an
	// update or upsert.
	Doc any
}

// InsertOp inserts doc.
func InsertOp(doc any) WriteOp { return WriteOp{Kind: OpInsert, Doc: doc} }

// UpdateOneOp applies update to the first match of filter.
func UpdateOneOp(filter, update any) WriteOp {
	return WriteOp{Kind: OpUpdateOne, Filter: filter, Doc: update}
}

// UpdateManyOp applies update to every match of filter.
func UpdateManyOp(filter, update any) WriteOp {
	return WriteOp{Kind: OpUpdateMany, Filter: filter, Doc: update}
}

// UpsertOp applies update to the first match of filter, inserting when
// none matches (checked as Upsert is).
func UpsertOp(filter, update any) WriteOp {
	return WriteOp{Kind: OpUpsert, Filter: filter, Doc: update}
}

// ReplaceOneOp replaces the first match of filter with doc.
func ReplaceOneOp(filter, doc any) WriteOp {
	return WriteOp{Kind: OpReplaceOne, Filter: filter, Doc: doc}
}

// DeleteOneOp deletes the first match of filter.
func DeleteOneOp(filter any) WriteOp { return WriteOp{Kind: OpDeleteOne, Filter: filter} }

// DeleteManyOp deletes every match of filter.
func DeleteManyOp(filter any) WriteOp { return WriteOp{Kind: OpDeleteMany, Filter: filter} }
