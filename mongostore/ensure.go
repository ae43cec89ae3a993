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
	Name       string // the index name, or the collection name
	Action     Action
	Err        error
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

// Changed reports whether any item was created or updated.
func (r SchemaReport) Changed() bool {
	return r.Count(ActionCreated)+r.Count(ActionUpdated) > 0
}

type existingIndex struct {
	Name        string `bson:"name"`
	Key         bson.D `bson:"key"`
	Unique      bool   `bson:"unique"`
	Sparse      bool   `bson:"sparse"`
	ExpireAfter *int64 `bson:"expireAfterSeconds"`
	Weights     bson.M `bson:"weights"`
}

type collState struct {
	exists    bool
	validator bson.Raw
	indexes   map[string]existingIndex
}

// inspect reads the server's collections, validators and indexes.
func (d *DB) inspect(ctx context.Context) (map[lucidkeys.Collection]*collState, error) {
	out := map[lucidkeys.Collection]*collState{}
	cur, err := d.db.ListCollections(ctx, bson.D{})
	if err != nil {
		return nil, d.mapErr("listCollections", "", err)
	}
	var colls []struct {
		Name    string `bson:"name"`
		Options struct {
			Validator bson.Raw `bson:"validator"`
		} `bson:"options"`
	}
	if err := cur.All(ctx, &colls); err != nil {
		return nil, d.mapErr("listCollections", "", err)
	}
	for _, c := range colls {
		st := &collState{exists: true, validator: c.Options.Validator, indexes: map[string]existingIndex{}}
		icur, err := d.coll(c.Name).Indexes().List(ctx)
		if err != nil {
			return nil, d.mapErr(c.Name+".listIndexes", c.Name, err)
		}
		var idx []existingIndex
		if err := icur.All(ctx, &idx); err != nil {
			return nil, d.mapErr(c.Name+".listIndexes", c.Name, err)
		}
		for _, ix := range idx {
			st.indexes[ix.Name] = ix
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

// indexDiff returns "" when have matches want, else what differs. A server
// that does not list the sparse option (f.sparseListed false) cannot show a
// sparse difference, so sparse is compared only where it is listed.
func indexDiff(want IndexSpec, have existingIndex, f Features) string {
	var diffs []string
	if want.Text() {
		var fields []string
		for _, k := range want.Keys {
			fields = append(fields, k.Key)
		}
		var got []string
		for k := range have.Weights {
			got = append(got, k)
		}
		sort.Strings(fields)
		sort.Strings(got)
		if !reflect.DeepEqual(fields, got) {
			diffs = append(diffs, fmt.Sprintf("text fields %v, want %v", got, fields))
		}
	} else if !reflect.DeepEqual(keyList(want.Keys), keyList(have.Key)) {
		diffs = append(diffs, fmt.Sprintf("keys %v, want %v", keyString(have.Key), keyString(want.Keys)))
	}
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
	return strings.Join(diffs, "; ")
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

// EnsureSchema creates the registry's collections, validators and indexes
// on the server, idempotently: a second run reports every item unchanged.
// A validator that differs is replaced with collMod; an index whose spec
// differs (keys, unique, sparse, TTL, text fields) is dropped and created
// again. Items the server cannot hold (validators, TTL or text indexes on
// FerretDB, as probed by Features) are reported ActionUnsupported with an
// error wrapping ErrUnsupported, and everything else is still applied.
// Indexes on the server that the registry does not list are left alone
// (SchemaDrift reports them). The error is non-nil when an item failed
// (ActionFailed) or the server could not be inspected.
func (d *DB) EnsureSchema(ctx context.Context) (SchemaReport, error) {
	var rep SchemaReport
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
		d.log.Debug("mongostore: schema", "collection", it.Collection, "kind", it.Kind, "name", it.Name, "action", it.Action)
	}
	for _, spec := range d.schema.colls {
		name := spec.Name
		op := string(name) + ".ensureSchema"
		st := state[name]
		fail := func(kind, item string, err error) {
			add(SchemaItem{Collection: name, Kind: kind, Name: item, Action: ActionFailed, Err: d.mapErr(op, string(name), err)})
		}
		withValidator := spec.Validator != nil && f.Validators
		if st == nil {
			o := options.CreateCollection()
			if withValidator {
				o.SetValidator(spec.ValidatorDocument())
			}
			err := d.db.CreateCollection(ctx, string(name), o)
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
				if sameValidator(want, st.validator) {
					add(SchemaItem{Collection: name, Kind: KindValidator, Name: string(name), Action: ActionUnchanged})
				} else if err := d.db.RunCommand(ctx, bson.D{{Key: "collMod", Value: string(name)}, {Key: "validator", Value: want},
					{Key: "validationLevel", Value: "strict"}, {Key: "validationAction", Value: "error"}}).Err(); err != nil {
					fail(KindValidator, string(name), err)
				} else {
					add(SchemaItem{Collection: name, Kind: KindValidator, Name: string(name), Action: ActionUpdated})
				}
			}
		}
		if spec.Validator != nil && !f.Validators {
			add(unsupportedItem(name, KindValidator, string(name), "validators"))
		}
		c := d.coll(string(name))
		for _, ix := range spec.Indexes {
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
			if have, ok := st.indexes[ix.Name]; ok {
				if indexDiff(ix, have, f) == "" {
					add(SchemaItem{Collection: name, Kind: KindIndex, Name: ix.Name, Action: ActionUnchanged})
					continue
				}
				if err := c.Indexes().DropOne(ctx, ix.Name); err != nil {
					fail(KindIndex, ix.Name, err)
					continue
				}
				action = ActionUpdated
			}
			if _, err := c.Indexes().CreateOne(ctx, indexModel(ix)); err != nil {
				if isUnsupportedErr(err) {
					add(SchemaItem{Collection: name, Kind: KindIndex, Name: ix.Name, Action: ActionUnsupported,
						Err: d.mapErr(op, string(name), err)})
					continue
				}
				fail(KindIndex, ix.Name, err)
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
	Name       string
	State      DriftState
	// Detail says what differs (for DriftDifferent) or what is unsupported.
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
// different, or unsupported by the server.
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
		wanted := map[string]bool{"_id_": true}
		for _, ix := range spec.Indexes {
			wanted[ix.Name] = true
			have, ok := st.indexes[ix.Name]
			switch {
			case !indexSupported(ix, f) && !ok:
				what := string(ix.Kind)
				if ix.Sparse && !f.SparseIndexes {
					what = "sparse"
				}
				add(name, KindIndex, ix.Name, DriftUnsupported, "server lacks "+what+" indexes")
			case !ok:
				add(name, KindIndex, ix.Name, DriftMissing, keyString(ix.Keys))
			default:
				if diff := indexDiff(ix, have, f); diff != "" {
					add(name, KindIndex, ix.Name, DriftDifferent, diff)
				} else {
					add(name, KindIndex, ix.Name, DriftOK, "")
				}
			}
		}
		extras := make([]string, 0)
		for n := range st.indexes {
			if !wanted[n] {
				extras = append(extras, n)
			}
		}
		sort.Strings(extras)
		for _, n := range extras {
			add(name, KindIndex, n, DriftExtra, keyString(st.indexes[n].Key))
		}
	}
	return dr, nil
}
