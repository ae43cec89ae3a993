package mongostore

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/HamiGames/lucid-data/lucidkeys"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Action is what EnsureSchema did with one item.
type Action string

// Actions reported by EnsureSchema.
const (
	ActionCreated     Action = "created"     // the collection or index was created, the validator set
	ActionUnchanged   Action = "unchanged"   // already as wanted
	ActionUpdated     Action = "updated"     // validator collMod-ed, index dropped and re-created
	ActionUnsupported Action = "unsupported" // the server lacks the feature; Err wraps ErrUnsupported
	ActionFailed      Action = "failed"      // Err says why
	// ActionAdopted: an index on the same keys with the same options exists
	// under another name (Existing), such as Lucid's email_1; it is used as
	// it is and nothing is created.
	ActionAdopted Action = "adopted"
	// ActionConflict: an index on the same keys exists with other options
	// (unique, sparse, TTL, partial filter), or the wanted name is taken by
	// an index on other keys. It is left alone unless
	// EnsureOptions.ReplaceConflicting is set; Detail shows both
	// definitions. A conflict is not a failure: EnsureSchema's error stays
	// nil for it, and SchemaDrift reports it as DriftDifferent.
	ActionConflict Action = "conflict"
)

// Item kinds in reports.
const (
	KindCollection = "collection"
	KindValidator  = "validator"
	KindIndex      = "index"
)

// SchemaItem is one line of a SchemaReport.
type SchemaItem struct {
	Collection lucidkeys.Collection
	Kind       string // KindCollection, KindValidator or KindIndex
	Name       string // the registry's index name, or the collection name
	Action     Action
	// Existing is the name of the index on the server the item refers to
	// when it is not Name (ActionAdopted, ActionConflict).
	Existing string
	// Detail says what conflicts (ActionConflict): the server's definition
	// and the registry's.
	Detail string
	Err    error
}

// SchemaReport lists what EnsureSchema did, item by item.
type SchemaReport struct {
	Items []SchemaItem
}

// Count returns the number of items with action a.
func (r SchemaReport) Count(a Action) int {
	n := 0
	for _, it := range r.Items {
		if it.Action == a {
			n++
		}
	}
	return n
}

// Conflicts returns the items left alone because they conflict with the
// server (ActionConflict).
func (r SchemaReport) Conflicts() []SchemaItem {
	var out []SchemaItem
	for _, it := range r.Items {
		if it.Action == ActionConflict {
			out = append(out, it)
		}
	}
	return out
}

// Changed reports whether any item was created or updated.
func (r SchemaReport) Changed() bool {
	return r.Count(ActionCreated)+r.Count(ActionUpdated) > 0
}

type existingIndex struct {
	Name          string   `bson:"name"`
	Key           bson.D   `bson:"key"`
	Unique        bool     `bson:"unique"`
	Sparse        bool     `bson:"sparse"`
	ExpireAfter   *int64   `bson:"expireAfterSeconds"`
	Weights       bson.M   `bson:"weights"`
	PartialFilter bson.Raw `bson:"partialFilterExpression"`
}

type collState struct {
	exists          bool
	validator       bson.Raw
	validationLevel string
	indexes         map[string]existingIndex
	order           []string // index names in the server's order
}

// inspect reads the server's collections, validators and indexes.
func (d *DB) inspect(ctx context.Context) (map[lucidkeys.Collection]*collState, error) {
	out := map[lucidkeys.Collection]*collState{}
	cur, err := d.db.ListCollections(ctx, bson.D{})
	if err != nil {
		return nil, d.mapErr(ctx, "listCollections", "", err)
	}
	var colls []struct {
		Name    string `bson:"name"`
		Options struct {
			Validator       bson.Raw `bson:"validator"`
			ValidationLevel string   `bson:"validationLevel"`
		} `bson:"options"`
	}
	if err := cur.All(ctx, &colls); err != nil {
		return nil, d.mapErr(ctx, "listCollections", "", err)
	}
	for _, c := range colls {
		st := &collState{exists: true, validator: c.Options.Validator, validationLevel: c.Options.ValidationLevel, indexes: map[string]existingIndex{}}
		icur, err := d.coll(c.Name).Indexes().List(ctx)
		if err != nil {
			return nil, d.mapErr(ctx, c.Name+".listIndexes", c.Name, err)
		}
		var idx []existingIndex
		if err := icur.All(ctx, &idx); err != nil {
			return nil, d.mapErr(ctx, c.Name+".listIndexes", c.Name, err)
		}
		for _, ix := range idx {
			st.indexes[ix.Name] = ix
			st.order = append(st.order, ix.Name)
		}
		out[lucidkeys.Collection(c.Name)] = st
	}
	return out, nil
}

// canon turns a BSON value into a comparable Go value: documents become
// maps (key order ignored), numbers float64.
func canon(v bson.RawValue) any {
	switch v.Type {
	case bson.TypeEmbeddedDocument:
		m := map[string]any{}
		elems, _ := v.Document().Elements()
		for _, e := range elems {
			m[e.Key()] = canon(e.Value())
		}
		return m
	case bson.TypeArray:
		vals, _ := v.Array().Values()
		a := make([]any, len(vals))
		for i, x := range vals {
			a[i] = canon(x)
		}
		return a
	case bson.TypeInt32, bson.TypeInt64, bson.TypeDouble:
		return numValue(v)
	case bson.TypeString:
		return v.StringValue()
	case bson.TypeBoolean:
		return v.Boolean()
	}
	return v.String()
}

func canonDoc(doc any) any {
	b, err := bson.Marshal(bson.D{{Key: "v", Value: doc}})
	if err != nil {
		return nil
	}
	return canon(bson.Raw(b).Lookup("v"))
}

func sameValidator(want bson.D, have bson.Raw) bool {
	if len(have) == 0 {
		return false
	}
	return reflect.DeepEqual(canonDoc(want), canonDoc(have))
}

// keysMatch reports whether have indexes the same keys as want: the same
// fields in the same order and directions (1, 1.0 and int64 1 are equal),
// or for a text index the same set of text fields. The name plays no part:
// Lucid's scripts create email_1 where the registry says users_email_unique.
func keysMatch(want IndexSpec, have existingIndex) bool {
	if want.Text() {
		if have.Weights == nil {
			return false
		}
		var fields, got []string
		for _, k := range want.Keys {
			fields = append(fields, k.Key)
		}
		for k := range have.Weights {
			got = append(got, k)
		}
		sort.Strings(fields)
		sort.Strings(got)
		return reflect.DeepEqual(fields, got)
	}
	return reflect.DeepEqual(keyList(want.Keys), keyList(have.Key))
}

// optionsDiff returns "" when have's options are want's, else what differs.
// A server that does not list the sparse option (f.sparseListed false)
// cannot show a sparse difference, so sparse is compared only where it is
// listed.
func optionsDiff(want IndexSpec, have existingIndex, f Features) string {
	var diffs []string
	if want.Unique != have.Unique {
		diffs = append(diffs, fmt.Sprintf("unique %v, want %v", have.Unique, want.Unique))
	}
	if want.Sparse != have.Sparse && f.sparseListed {
		diffs = append(diffs, fmt.Sprintf("sparse %v, want %v", have.Sparse, want.Sparse))
	}
	if want.TTL() {
		w := int64(want.ExpireAfter / time.Second)
		if have.ExpireAfter == nil || *have.ExpireAfter != w {
			diffs = append(diffs, fmt.Sprintf("expireAfterSeconds %v, want %d", ptrStr(have.ExpireAfter), w))
		}
	} else if have.ExpireAfter != nil {
		diffs = append(diffs, fmt.Sprintf("expireAfterSeconds %d, want none", *have.ExpireAfter))
	}
	if len(have.PartialFilter) > 0 {
		diffs = append(diffs, fmt.Sprintf("partialFilterExpression %s, want none", have.PartialFilter))
	}
	return strings.Join(diffs, "; ")
}

// indexDef renders an index definition for reports: name, keys, options.
func indexDef(name string, keys bson.D, unique, sparse bool, ttl *int64, partial bson.Raw) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", name, keyString(keys))
	if unique {
		b.WriteString(" unique")
	}
	if sparse {
		b.WriteString(" sparse")
	}
	if ttl != nil {
		fmt.Fprintf(&b, " expireAfterSeconds=%d", *ttl)
	}
	if len(partial) > 0 {
		fmt.Fprintf(&b, " partialFilterExpression=%s", partial)
	}
	return b.String()
}

func wantDef(ix IndexSpec) string {
	var ttl *int64
	if ix.TTL() {
		ttl = ptr(int64(ix.ExpireAfter / time.Second))
	}
	return indexDef(ix.Name, ix.Keys, ix.Unique, ix.Sparse, ttl, nil)
}

func haveDef(h existingIndex) string {
	return indexDef(h.Name, h.Key, h.Unique, h.Sparse, h.ExpireAfter, h.PartialFilter)
}

// indexMatch is how a wanted index stands on the server.
type indexMatch struct {
	state    DriftState // DriftOK, DriftMissing or DriftDifferent
	existing string     // the server's index it refers to ("" for missing)
	detail   string     // for DriftDifferent: both definitions
	// replace lists the server's indexes to drop before creating the
	// wanted one, when the caller asks for conflicts to be replaced.
	replace []string
}

// matchIndex finds want among the server's indexes by key pattern and
// options: an index with the same keys and options is the wanted one
// whatever its name (preferring one with the wanted name); one with the
// same keys and other options, or one with the wanted name on other keys,
// is a conflict.
func matchIndex(want IndexSpec, st *collState, f Features) indexMatch {
	var sameKeys []existingIndex
	for _, n := range st.order {
		h := st.indexes[n]
		if n != "_id_" && keysMatch(want, h) {
			sameKeys = append(sameKeys, h)
		}
	}
	for _, h := range sameKeys {
		if h.Name == want.Name && optionsDiff(want, h, f) == "" {
			return indexMatch{state: DriftOK, existing: h.Name}
		}
	}
	for _, h := range sameKeys {
		if optionsDiff(want, h, f) == "" {
			return indexMatch{state: DriftOK, existing: h.Name}
		}
	}
	if len(sameKeys) > 0 {
		h := sameKeys[0]
		m := indexMatch{state: DriftDifferent, existing: h.Name,
			detail: fmt.Sprintf("server has %s; registry wants %s: %s", haveDef(h), wantDef(want), optionsDiff(want, h, f))}
		for _, h := range sameKeys {
			m.replace = append(m.replace, h.Name)
		}
		if h, ok := st.indexes[want.Name]; ok && !keysMatch(want, h) {
			m.replace = append(m.replace, h.Name)
		}
		return m
	}
	if h, ok := st.indexes[want.Name]; ok {
		return indexMatch{state: DriftDifferent, existing: h.Name, replace: []string{h.Name},
			detail: fmt.Sprintf("the name is taken: server has %s; registry wants %s", haveDef(h), wantDef(want))}
	}
	return indexMatch{state: DriftMissing}
}

func ptrStr(p *int64) string {
	if p == nil {
		return "none"
	}
	return fmt.Sprint(*p)
}

func keyList(d bson.D) []any {
	out := make([]any, 0, 2*len(d))
	for _, e := range d {
		out = append(out, e.Key, canonDoc(e.Value))
	}
	return out
}

func keyString(d bson.D) string {
	parts := make([]string, len(d))
	for i, e := range d {
		parts[i] = fmt.Sprintf("%s:%v", e.Key, e.Value)
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func indexModel(ix IndexSpec) mongo.IndexModel {
	o := options.Index().SetName(ix.Name)
	if ix.Unique {
		o.SetUnique(true)
	}
	if ix.Sparse {
		o.SetSparse(true)
	}
	if ix.TTL() {
		o.SetExpireAfterSeconds(int32(ix.ExpireAfter / time.Second))
	}
	return mongo.IndexModel{Keys: ix.Keys, Options: o}
}

// indexSupported reports whether the server can build ix.
func indexSupported(ix IndexSpec, f Features) bool {
	return (!ix.TTL() || f.TTLIndexes) && (!ix.Text() || f.TextIndexes) && (!ix.Sparse || f.SparseIndexes)
}

func unsupportedItem(coll lucidkeys.Collection, kind, name, what string) SchemaItem {
	return SchemaItem{Collection: coll, Kind: kind, Name: name, Action: ActionUnsupported,
		Err: &Error{Kind: ErrUnsupported, Op: string(coll) + ".ensureSchema", Msg: what + " (probed)"}}
}

// EnsureOptions changes what EnsureSchemaWith may do to what exists.
type EnsureOptions struct {
	// ReplaceConflicting drops a server index that conflicts with a
	// registry index (same keys with other unique, sparse, TTL or partial
	// filter options, or the registry's name on other keys) and creates the
	// registry's. Off, such an index is reported ActionConflict and left
	// alone: it may be what another service relies on.
	ReplaceConflicting bool
	// Collections, when not empty, limits the run to these collections of
	// the registry (a restore of a few Lucid collections sets up those, not
	// all 15); a name the registry does not hold is ErrInvalid before
	// anything is changed. Empty: every collection of the registry.
	Collections []lucidkeys.Collection
}

// EnsureSchema is EnsureSchemaWith with the zero EnsureOptions: conflicts
// are reported and left alone.
func (d *DB) EnsureSchema(ctx context.Context) (SchemaReport, error) {
	return d.EnsureSchemaWith(ctx, EnsureOptions{})
}

// EnsureSchemaWith creates what the registry wants and the server lacks —
// collections, validators, indexes — and changes nothing else, so it can
// run on every start, on an empty database or on one Lucid's own scripts
// set up; a second run reports no change.
//
// An index is identified by its key pattern and options, never by its
// name: an index on the same keys with the same unique, sparse and TTL
// options under another name (Lucid's email_1 for users_email_unique) is
// reported ActionAdopted and used as it is; no second index is created on
// the same keys. An index on the same keys with other options, or another
// index holding the registry's name, is a conflict: reported ActionConflict
// with both definitions and left alone unless o.ReplaceConflicting is set
// (then it is dropped and the registry's created: ActionUpdated). Indexes
// the registry does not list are left alone (SchemaDrift reports them).
//
// A validator that differs from the registry's is replaced with collMod
// (the registry's schema is the one the SDK checks writes against); the
// validation level is Config.ValidationLevel (see there). Items the server
// cannot hold (validators, TTL or text indexes on FerretDB, as probed by
// Features) are reported ActionUnsupported with an error wrapping
// ErrUnsupported, and everything else is still applied. The error is
// non-nil when an item failed (ActionFailed) or the server could not be
// inspected.
func (d *DB) EnsureSchemaWith(ctx context.Context, o EnsureOptions) (SchemaReport, error) {
	var rep SchemaReport
	var only map[lucidkeys.Collection]bool
	if len(o.Collections) > 0 {
		only = make(map[lucidkeys.Collection]bool, len(o.Collections))
		for _, c := range o.Collections {
			if _, ok := d.schema.Collection(c); !ok {
				return rep, fmt.Errorf("mongostore: ensure schema: collection %.60q is not in the registry: %w", c, ErrInvalid)
			}
			only[c] = true
		}
	}
	f, err := d.Features(ctx)
	if err != nil {
		return rep, err
	}
	state, err := d.inspect(ctx)
	if err != nil {
		return rep, err
	}
	var errs []error
	add := func(it SchemaItem) {
		if it.Action == ActionFailed {
			errs = append(errs, it.Err)
		}
		rep.Items = append(rep.Items, it)
		if it.Action == ActionConflict {
			d.log.Warn("mongostore: schema conflict left alone", "collection", it.Collection, "kind", it.Kind, "name", it.Name, "existing", it.Existing, "detail", it.Detail)
			return
		}
		d.log.Debug("mongostore: schema", "collection", it.Collection, "kind", it.Kind, "name", it.Name, "action", it.Action, "existing", it.Existing)
	}
	level := d.cfg.ValidationLevel
	for _, spec := range d.schema.colls {
		name := spec.Name
		if only != nil && !only[name] {
			continue
		}
		op := string(name) + ".ensureSchema"
		st := state[name]
		fail := func(kind, item string, err error) {
			add(SchemaItem{Collection: name, Kind: kind, Name: item, Action: ActionFailed, Err: d.mapErr(ctx, op, string(name), err)})
		}
		withValidator := spec.Validator != nil && f.Validators
		if st == nil {
			co := options.CreateCollection()
			if withValidator {
				lv := level
				if lv == "" {
					lv = "strict"
				}
				co.SetValidator(spec.ValidatorDocument()).SetValidationLevel(lv).SetValidationAction("error")
			}
			err := d.db.CreateCollection(ctx, string(name), co)
			switch {
			case err == nil:
				add(SchemaItem{Collection: name, Kind: KindCollection, Name: string(name), Action: ActionCreated})
				if withValidator {
					add(SchemaItem{Collection: name, Kind: KindValidator, Name: string(name), Action: ActionCreated})
				}
			case hasCode(err, []int{codeNamespaceExists}):
				add(SchemaItem{Collection: name, Kind: KindCollection, Name: string(name), Action: ActionUnchanged})
				withValidator = false // created concurrently; the next run aligns it
			default:
				fail(KindCollection, string(name), err)
				continue
			}
			st = &collState{indexes: map[string]existingIndex{}}
		} else {
			add(SchemaItem{Collection: name, Kind: KindCollection, Name: string(name), Action: ActionUnchanged})
			if withValidator {
				want := spec.ValidatorDocument()
				have := st.validationLevel
				if have == "" {
					have = "strict"
				}
				if sameValidator(want, st.validator) && (level == "" || level == have) {
					add(SchemaItem{Collection: name, Kind: KindValidator, Name: string(name), Action: ActionUnchanged})
				} else {
					lv := level
					if lv == "" {
						lv = have
					}
					if err := d.db.RunCommand(ctx, bson.D{{Key: "collMod", Value: string(name)}, {Key: "validator", Value: want},
						{Key: "validationLevel", Value: lv}, {Key: "validationAction", Value: "error"}}).Err(); err != nil {
						fail(KindValidator, string(name), err)
					} else {
						add(SchemaItem{Collection: name, Kind: KindValidator, Name: string(name), Action: ActionUpdated})
					}
				}
			}
		}
		if spec.Validator != nil && !f.Validators {
			add(unsupportedItem(name, KindValidator, string(name), "validators"))
		}
		c := d.coll(string(name))
		for _, ix := range spec.Indexes {
			m := matchIndex(ix, st, f)
			if m.state == DriftOK {
				if m.existing == ix.Name {
					add(SchemaItem{Collection: name, Kind: KindIndex, Name: ix.Name, Action: ActionUnchanged})
				} else {
					add(SchemaItem{Collection: name, Kind: KindIndex, Name: ix.Name, Action: ActionAdopted, Existing: m.existing})
				}
				continue
			}
			if !indexSupported(ix, f) {
				what := "TTL indexes"
				switch {
				case ix.Text():
					what = "text indexes"
				case ix.Sparse && !f.SparseIndexes:
					what = "sparse indexes (a unique index without sparse would reject every second document lacking the field)"
				}
				add(unsupportedItem(name, KindIndex, ix.Name, what))
				continue
			}
			action := ActionCreated
			if m.state == DriftDifferent {
				if !o.ReplaceConflicting {
					add(SchemaItem{Collection: name, Kind: KindIndex, Name: ix.Name, Action: ActionConflict, Existing: m.existing, Detail: m.detail})
					continue
				}
				dropped := true
				for _, n := range m.replace {
					if err := c.Indexes().DropOne(ctx, n); err != nil && !hasCode(err, []int{codeIndexNotFound}) {
						fail(KindIndex, ix.Name, err)
						dropped = false
						break
					}
					delete(st.indexes, n)
				}
				if !dropped {
					continue
				}
				action = ActionUpdated
			}
			if _, err := c.Indexes().CreateOne(ctx, indexModel(ix)); err != nil {
				switch {
				case isUnsupportedErr(err):
					add(SchemaItem{Collection: name, Kind: KindIndex, Name: ix.Name, Action: ActionUnsupported,
						Err: d.mapErr(ctx, op, string(name), err)})
				case hasCode(err, []int{codeIndexOptionsConflict, codeIndexKeySpecsConflict}):
					// Another client created a conflicting index meanwhile:
					// a conflict, not a failure, as if it had been there.
					add(SchemaItem{Collection: name, Kind: KindIndex, Name: ix.Name, Action: ActionConflict,
						Detail: "the server refused " + wantDef(ix) + ": " + err.Error()})
				default:
					fail(KindIndex, ix.Name, err)
				}
				continue
			}
			add(SchemaItem{Collection: name, Kind: KindIndex, Name: ix.Name, Action: action})
		}
	}
	return rep, errors.Join(errs...)
}

// DriftState is the state of one item in a Drift report.
type DriftState string

// Drift states.
const (
	DriftOK          DriftState = "ok"          // present as wanted
	DriftMissing     DriftState = "missing"     // wanted, absent
	DriftExtra       DriftState = "extra"       // present, not in the registry
	DriftDifferent   DriftState = "different"   // present with another spec
	DriftUnsupported DriftState = "unsupported" // wanted, but the server lacks the feature
)

// DriftItem is one line of a Drift report.
type DriftItem struct {
	Collection lucidkeys.Collection
	Kind       string // KindCollection, KindValidator or KindIndex
	Name       string // the registry's index name (for DriftExtra, the server's)
	State      DriftState
	// Existing is the server's index the item refers to when its name is
	// not Name: an adopted index (DriftOK) or a conflicting one
	// (DriftDifferent).
	Existing string
	// Detail says what differs (for DriftDifferent: both definitions), what
	// is unsupported, or under which name an index is present.
	Detail string
}

// Drift compares the server with the registry.
type Drift struct {
	Items []DriftItem
}

// Clean reports whether nothing is missing, extra or different (items the
// server cannot hold do not count).
func (d Drift) Clean() bool {
	for _, it := range d.Items {
		if it.State == DriftMissing || it.State == DriftExtra || it.State == DriftDifferent {
			return false
		}
	}
	return true
}

// Find returns the item for (coll, kind, name).
func (d Drift) Find(coll lucidkeys.Collection, kind, name string) (DriftItem, bool) {
	for _, it := range d.Items {
		if it.Collection == coll && it.Kind == kind && it.Name == name {
			return it, true
		}
	}
	return DriftItem{}, false
}

// SchemaDrift reports, without changing anything, how the server's
// collections, validators and indexes differ from the registry: missing,
// extra (indexes of registry collections the registry does not list),
// different, or unsupported by the server. Indexes are matched as
// EnsureSchemaWith matches them, by key pattern and options: an index
// present under another name is DriftOK with Existing set, one on the same
// keys with other options is DriftDifferent with both definitions.
func (d *DB) SchemaDrift(ctx context.Context) (Drift, error) {
	var dr Drift
	f, err := d.Features(ctx)
	if err != nil {
		return dr, err
	}
	state, err := d.inspect(ctx)
	if err != nil {
		return dr, err
	}
	add := func(coll lucidkeys.Collection, kind, name string, st DriftState, detail string) {
		dr.Items = append(dr.Items, DriftItem{Collection: coll, Kind: kind, Name: name, State: st, Detail: detail})
	}
	for _, spec := range d.schema.colls {
		name := spec.Name
		st := state[name]
		if st == nil {
			add(name, KindCollection, string(name), DriftMissing, "")
			st = &collState{indexes: map[string]existingIndex{}}
		} else {
			add(name, KindCollection, string(name), DriftOK, "")
		}
		if spec.Validator != nil {
			switch {
			case !f.Validators:
				add(name, KindValidator, string(name), DriftUnsupported, "server has no validators")
			case len(st.validator) == 0:
				add(name, KindValidator, string(name), DriftMissing, "")
			case !sameValidator(spec.ValidatorDocument(), st.validator):
				add(name, KindValidator, string(name), DriftDifferent, "validator differs from the registry")
			default:
				add(name, KindValidator, string(name), DriftOK, "")
			}
		}
		matched := map[string]bool{"_id_": true}
		for _, ix := range spec.Indexes {
			m := matchIndex(ix, st, f)
			if m.existing != "" {
				matched[m.existing] = true
			}
			switch {
			case m.state == DriftOK && m.existing != ix.Name:
				dr.Items = append(dr.Items, DriftItem{Collection: name, Kind: KindIndex, Name: ix.Name, State: DriftOK, Existing: m.existing,
					Detail: "present as " + m.existing})
			case m.state == DriftOK:
				add(name, KindIndex, ix.Name, DriftOK, "")
			case !indexSupported(ix, f):
				what := string(ix.Kind)
				if ix.Sparse && !f.SparseIndexes {
					what = "sparse"
				}
				add(name, KindIndex, ix.Name, DriftUnsupported, "server lacks "+what+" indexes")
			case m.state == DriftMissing:
				add(name, KindIndex, ix.Name, DriftMissing, keyString(ix.Keys))
			default:
				dr.Items = append(dr.Items, DriftItem{Collection: name, Kind: KindIndex, Name: ix.Name, State: DriftDifferent, Existing: m.existing, Detail: m.detail})
			}
		}
		for _, n := range st.order {
			if !matched[n] {
				add(name, KindIndex, n, DriftExtra, haveDef(st.indexes[n]))
			}
		}
	}
	return dr, nil
}

// IndexInfo is one index as the server lists it.
type IndexInfo struct {
	Name   string
	Keys   bson.D
	Unique bool
	// Sparse as the server lists it (FerretDB v1 never lists it).
	Sparse bool
	// ExpireAfter is set for a TTL index.
	ExpireAfter *time.Duration
	// TextFields are the fields of a text index (its weights), sorted.
	TextFields []string
	// PartialFilter is the partialFilterExpression, if any.
	PartialFilter bson.Raw
}

// ListIndexes returns the indexes of coll in the server's order, _id_
// included. A collection that does not exist has none (nil, nil).
func (d *DB) ListIndexes(ctx context.Context, coll lucidkeys.Collection) ([]IndexInfo, error) {
	op := string(coll) + ".listIndexes"
	cur, err := d.coll(string(coll)).Indexes().List(ctx)
	if err != nil {
		if hasCode(err, []int{codeNamespaceNotFound}) {
			return nil, nil
		}
		return nil, d.mapErr(ctx, op, string(coll), err)
	}
	var idx []existingIndex
	if err := cur.All(ctx, &idx); err != nil {
		return nil, d.mapErr(ctx, op, string(coll), err)
	}
	out := make([]IndexInfo, 0, len(idx))
	for _, h := range idx {
		info := IndexInfo{Name: h.Name, Keys: h.Key, Unique: h.Unique, Sparse: h.Sparse, PartialFilter: h.PartialFilter}
		if h.ExpireAfter != nil {
			info.ExpireAfter = ptr(time.Duration(*h.ExpireAfter) * time.Second)
		}
		for k := range h.Weights {
			info.TextFields = append(info.TextFields, k)
		}
		sort.Strings(info.TextFields)
		out = append(out, info)
	}
	return out, nil
}
