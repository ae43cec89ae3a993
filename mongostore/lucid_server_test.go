//go:build !lucidfuzz

package mongostore_test

import (
	"context"
	"errors"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/HamiGames/lucid-data/lucidkeys"
	"github.com/HamiGames/lucid-data/mongostore"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// lucidIDField is the identifying field of each of the five, and a $set
// each document of it accepts.
var lucidIDField = map[lucidkeys.Collection]string{
	lucidkeys.CollUsers: "user_id", lucidkeys.CollSessions: "session_id", lucidkeys.CollBlocks: "block_hash",
	lucidkeys.CollTransactions: "tx_id", lucidkeys.CollTrustPolicies: "policy_id",
}

func lucidUpdate(c lucidkeys.Collection) bson.D {
	now := time.Now().UTC().Truncate(time.Millisecond)
	switch c {
	case lucidkeys.CollBlocks:
		return bson.D{{Key: "$set", Value: bson.D{{Key: "extra_data", Value: bson.D{{Key: "note", Value: "touched by Go"}}}}}}
	case lucidkeys.CollTransactions:
		return bson.D{{Key: "$set", Value: bson.D{{Key: "confirmations", Value: int32(7)}}}}
	}
	return bson.D{{Key: "$set", Value: bson.D{{Key: "updated_at", Value: now}}}}
}

// TestLucidExamplesThroughSDK: each file's example document is inserted,
// found (equal, field for field and type for type), updated and replaced
// through the SDK on a schema the SDK set up.
func TestLucidExamplesThroughSDK(t *testing.T) {
	ctx := ctxT(t)
	db := connect(t, mongostore.Config{})
	if _, err := db.EnsureSchema(ctx); err != nil {
		t.Fatal(err)
	}
	for _, c := range lucidFive {
		ex := lucidExample(t, c)
		if _, err := db.InsertOne(ctx, c, ex); err != nil {
			t.Errorf("%s: InsertOne(example): %v", c, err)
			continue
		}
		id := bson.D{{Key: lucidIDField[c], Value: lookup(ex, lucidIDField[c])}}
		var got bson.D
		if err := db.FindOne(ctx, c, id, &got, &mongostore.FindOptions{Projection: bson.D{{Key: "_id", Value: 0}}}); err != nil {
			t.Fatalf("%s: FindOne: %v", c, err)
		}
		if !reflect.DeepEqual(norm(got, false), norm(ex, false)) {
			t.Errorf("%s: read back\n%v\nwant\n%v", c, got, ex)
		}
		if r, err := db.UpdateOne(ctx, c, id, lucidUpdate(c)); err != nil || r.Matched != 1 {
			t.Errorf("%s: UpdateOne: %+v, %v", c, r, err)
		}
		if err := db.FindOne(ctx, c, id, &got, nil); err != nil {
			t.Fatal(err)
		}
		if r, err := db.ReplaceOne(ctx, c, id, got); err != nil || r.Matched != 1 {
			t.Errorf("%s: ReplaceOne(read-back): %+v, %v", c, r, err)
		}
	}
}

func lookup(d bson.D, k string) any {
	for _, e := range d {
		if e.Key == k {
			return e.Value
		}
	}
	return nil
}

// lucidMinimal is a document of c with only what Lucid requires.
func lucidMinimal(c lucidkeys.Collection) bson.D {
	at := time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)
	switch c {
	case lucidkeys.CollUsers:
		return bson.D{{Key: "user_id", Value: "u-min"}, {Key: "email", Value: "min@example.com"}, {Key: "created_at", Value: at},
			{Key: "updated_at", Value: at}, {Key: "status", Value: "pending_verification"}}
	case lucidkeys.CollSessions:
		return bson.D{{Key: "session_id", Value: "s-min"}, {Key: "user_id", Value: "u-min"}, {Key: "created_at", Value: at}, {Key: "status", Value: "completed"}}
	case lucidkeys.CollBlocks:
		return bson.D{{Key: "block_height", Value: int64(101)}, {Key: "block_hash", Value: "hash_min"}, {Key: "previous_hash", Value: "hash_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"},
			{Key: "timestamp", Value: at}, {Key: "transactions", Value: bson.A{}}}
	case lucidkeys.CollTransactions:
		return bson.D{{Key: "tx_id", Value: "tx_min"}, {Key: "tx_type", Value: "payout_request"}, {Key: "sender", Value: "node_1"},
			{Key: "timestamp", Value: at}, {Key: "status", Value: "pending"}}
	case lucidkeys.CollTrustPolicies:
		return bson.D{{Key: "policy_id", Value: "policy_min"}, {Key: "creator_id", Value: "u-min"}, {Key: "name", Value: "Minimal"},
			{Key: "created_at", Value: at}, {Key: "status", Value: "draft"}}
	}
	return nil
}

// seedLucid sets up a database the way Lucid's scripts do: the five schema
// files' createCollection (validator, strict, error) where the server has
// validators — on FerretDB the server refuses that one step and the
// collection is created without it —, create_indexes.js through the
// driver, and documents shaped like each example, one with only the
// required fields and, where no validator would refuse it, one as a Python
// service writes it without one (a 32-bit int in a "long" field). It
// returns the documents inserted per collection.
func seedLucid(t *testing.T, ctx context.Context, d *mongo.Database, validators bool) map[lucidkeys.Collection]int {
	t.Helper()
	for _, c := range lucidFive {
		cmd := bson.D{{Key: "create", Value: string(c)}, {Key: "validator", Value: bson.D{{Key: "$jsonSchema", Value: lucidFileSchema(t, c)}}},
			{Key: "validationLevel", Value: "strict"}, {Key: "validationAction", Value: "error"}}
		err := d.RunCommand(ctx, cmd).Err()
		switch {
		case err == nil && !validators:
			t.Fatalf("%s: the server took a validator the probe says it lacks", c)
		case err != nil && validators:
			t.Fatalf("%s: create with Lucid's validator: %v", c, err)
		case err != nil:
			var se mongo.ServerError
			if !errors.As(err, &se) || !(se.HasErrorCode(238) || se.HasErrorCode(115)) { // NotImplemented, CommandNotSupported
				t.Fatalf("%s: the server refused Lucid's createCollection with %v, not as unsupported", c, err)
			}
			t.Logf("%s: server without validators refused Lucid's createCollection (%v); created without", c, err)
			if err := d.CreateCollection(ctx, string(c)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, ix := range lucidIndexes(t) {
		o := options.Index()
		if ix.unique {
			o.SetUnique(true)
		}
		if ix.sparse {
			o.SetSparse(true)
		}
		if _, err := d.Collection(string(ix.coll)).Indexes().CreateOne(ctx, mongo.IndexModel{Keys: ix.keys, Options: o}); err != nil {
			t.Fatalf("create_indexes.js %s %v: %v", ix.coll, ix.keys, err)
		}
	}
	n := map[lucidkeys.Collection]int{}
	for _, c := range lucidFive {
		docs := []any{lucidExample(t, c), lucidMinimal(c)}
		if !validators && c == lucidkeys.CollSessions {
			docs = append(docs, bson.D{{Key: "session_id", Value: "s-python"}, {Key: "user_id", Value: "u-min"},
				{Key: "created_at", Value: t0}, {Key: "status", Value: "active"}, {Key: "duration", Value: int32(60)}})
		}
		if _, err := d.Collection(string(c)).InsertMany(ctx, docs); err != nil {
			t.Fatalf("seed %s: %v", c, err)
		}
		n[c] = len(docs)
	}
	return n
}

type idxSnap struct{ names, keys []string }

func snapshot(t *testing.T, ctx context.Context, db *mongostore.DB, c lucidkeys.Collection) idxSnap {
	t.Helper()
	list, err := db.ListIndexes(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	var s idxSnap
	for _, ix := range list {
		s.names = append(s.names, ix.Name)
		s.keys = append(s.keys, descr(ix.Keys, ix.Unique, false))
	}
	sort.Strings(s.names)
	sort.Strings(s.keys)
	return s
}

// TestAdoptLucidDatabase (issue 14): on a database seeded as Lucid's
// scripts seed it, EnsureSchema changes nothing that exists — every index
// of create_indexes.js is adopted under its default name, no second index
// appears on the same keys, no conflict, no failure, the validators (where
// the server has them) unchanged — and creates only the ten collections it
// lacks; run twice it reports no change; SchemaDrift agrees; every
// document already there reads and updates through the SDK.
func TestAdoptLucidDatabase(t *testing.T) {
	ctx := ctxT(t)
	db := connect(t, mongostore.Config{})
	f, err := db.Features(ctx)
	if err != nil {
		t.Fatal(err)
	}
	seeded := seedLucid(t, ctx, db.Database(), f.Validators)
	before := map[lucidkeys.Collection]idxSnap{}
	for _, c := range lucidFive {
		before[c] = snapshot(t, ctx, db, c)
	}
	defaultName := map[string]string{} // registry name -> Lucid's default name
	s := db.Schema()
	for _, lix := range lucidIndexes(t) {
		spec, _ := s.Collection(lix.coll)
		for _, ix := range spec.Indexes {
			if descr(ix.Keys, false, false) == descr(lix.keys, false, false) {
				defaultName[ix.Name] = lix.name()
			}
		}
	}

	rep, err := db.EnsureSchema(ctx)
	if err != nil {
		t.Fatalf("EnsureSchema: %v", err)
	}
	five := map[lucidkeys.Collection]bool{}
	for _, c := range lucidFive {
		five[c] = true
	}
	adopted := 0
	for _, it := range rep.Items {
		if it.Action == mongostore.ActionFailed || it.Action == mongostore.ActionConflict {
			t.Errorf("%s %s %s: %s %v %s", it.Collection, it.Kind, it.Name, it.Action, it.Err, it.Detail)
		}
		if !five[it.Collection] {
			continue
		}
		switch it.Kind {
		case mongostore.KindCollection:
			if it.Action != mongostore.ActionUnchanged {
				t.Errorf("%s: collection %s", it.Collection, it.Action)
			}
		case mongostore.KindValidator:
			if f.Validators && it.Action != mongostore.ActionUnchanged || !f.Validators && it.Action != mongostore.ActionUnsupported {
				t.Errorf("%s: validator %s %v (validators %v)", it.Collection, it.Action, it.Err, f.Validators)
			}
		case mongostore.KindIndex:
			if it.Action != mongostore.ActionAdopted || it.Existing != defaultName[it.Name] {
				t.Errorf("%s: index %s %s (existing %q), want adopted as %q", it.Collection, it.Name, it.Action, it.Existing, defaultName[it.Name])
			}
			adopted++
		}
	}
	if adopted != 29 {
		t.Errorf("%d indexes adopted, want create_indexes.js's 29", adopted)
	}
	for _, c := range lucidFive {
		if after := snapshot(t, ctx, db, c); !reflect.DeepEqual(after, before[c]) {
			t.Errorf("%s: indexes changed by EnsureSchema\nbefore %v\nafter  %v", c, before[c], after)
		}
	}
	// Only the ten collections the seed lacked were created.
	for _, it := range rep.Items {
		if it.Kind == mongostore.KindCollection && it.Action == mongostore.ActionCreated && five[it.Collection] {
			t.Errorf("%s created", it.Collection)
		}
	}

	rep2, err := db.EnsureSchema(ctx)
	if err != nil || rep2.Changed() || len(rep2.Items) != len(rep.Items) {
		t.Errorf("second run: changed=%v, %d items (first %d), %v", rep2.Changed(), len(rep2.Items), len(rep.Items), err)
	}
	dr, err := db.SchemaDrift(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !dr.Clean() {
		for _, it := range dr.Items {
			if it.State != mongostore.DriftOK && it.State != mongostore.DriftUnsupported {
				t.Errorf("drift: %+v", it)
			}
		}
	}
	if it, ok := dr.Find(lucidkeys.CollUsers, mongostore.KindIndex, "users_email_unique"); !ok || it.State != mongostore.DriftOK || it.Existing != "email_1" {
		t.Errorf("drift of users_email_unique = %+v, want ok as email_1", it)
	}

	// Every document reads and updates through the SDK.
	for _, c := range lucidFive {
		var docs []bson.M
		if err := db.Find(ctx, c, mongostore.All, &docs, nil); err != nil || len(docs) != seeded[c] {
			t.Fatalf("%s: Find = %d docs, %v; want %d", c, len(docs), err, seeded[c])
		}
		for _, d := range docs {
			r, err := db.UpdateOne(ctx, c, bson.D{{Key: "_id", Value: d["_id"]}}, lucidUpdate(c))
			if err != nil || r.Matched != 1 {
				t.Errorf("%s %v: UpdateOne = %+v, %v", c, d[lucidIDField[c]], r, err)
			}
		}
	}
	// The 32-bit duration a Python service may write without a validator
	// reads back, updates, and is what a replacement by the SDK would fix.
	if !f.Validators {
		var py bson.M
		if err := db.FindOne(ctx, lucidkeys.CollSessions, bson.D{{Key: "session_id", Value: "s-python"}}, &py, nil); err != nil || py["duration"] != int32(60) {
			t.Errorf("python-shaped session: %v, %v", py, err)
		}
		if _, err := db.ReplaceOne(ctx, lucidkeys.CollSessions, bson.D{{Key: "session_id", Value: "s-python"}}, py); !errors.Is(err, mongostore.ErrValidation) {
			t.Errorf("ReplaceOne keeping an int32 duration = %v, want ErrValidation (Lucid says long)", err)
		}
	}

	// validationLevel moderate, asked for, is applied to the adopted
	// collections where the server has validators.
	mdb := connect(t, mongostore.Config{Database: db.Database().Name(), ValidationLevel: "moderate"})
	rep3, err := mdb.EnsureSchema(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range rep3.Items {
		if it.Kind != mongostore.KindValidator || !five[it.Collection] {
			continue
		}
		if f.Validators && it.Action != mongostore.ActionUpdated || !f.Validators && it.Action != mongostore.ActionUnsupported {
			t.Errorf("moderate: %s validator %s", it.Collection, it.Action)
		}
	}
	if f.Validators {
		var info []struct {
			Options struct {
				ValidationLevel string `bson:"validationLevel"`
			} `bson:"options"`
		}
		cur, err := db.Database().ListCollections(ctx, bson.D{{Key: "name", Value: "users"}})
		if err != nil || cur.All(ctx, &info) != nil || len(info) != 1 || info[0].Options.ValidationLevel != "moderate" {
			t.Errorf("users validationLevel after moderate: %+v, %v", info, err)
		}
	}
	if _, err := mongostore.Connect(ctx, mongostore.Config{URI: "mongodb://127.0.0.1:1/", ValidationLevel: "lax"}); !errors.Is(err, mongostore.ErrInvalid) {
		t.Errorf("ValidationLevel lax = %v, want ErrInvalid", err)
	}
}

// TestIndexConflictsLeftAlone: an index on the registry's keys with other
// options, and one holding the registry's name on other keys, are reported
// as conflicts with both definitions, never fail EnsureSchema, never get a
// twin, and are replaced only when asked.
func TestIndexConflictsLeftAlone(t *testing.T) {
	ctx := ctxT(t)
	db := connect(t, mongostore.Config{})
	users := db.Database().Collection("users")
	if _, err := users.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "email", Value: 1}}}); err != nil { // email_1, not unique
		t.Fatal(err)
	}
	if _, err := users.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "username", Value: 1}}, Options: options.Index().SetName("users_status_asc")}); err != nil {
		t.Fatal(err)
	}
	rep, err := db.EnsureSchema(ctx)
	if err != nil {
		t.Fatalf("EnsureSchema with conflicts: %v", err)
	}
	got := map[string]mongostore.SchemaItem{}
	for _, it := range rep.Conflicts() {
		got[it.Name] = it
	}
	if it := got["users_email_unique"]; it.Existing != "email_1" || !strings.Contains(it.Detail, "server has email_1 {email:1}") ||
		!strings.Contains(it.Detail, "registry wants users_email_unique {email:1} unique") {
		t.Errorf("email conflict = %+v", it)
	}
	if it := got["users_status_asc"]; it.Existing != "users_status_asc" || !strings.Contains(it.Detail, "name is taken") || !strings.Contains(it.Detail, "{username:1}") {
		t.Errorf("name conflict = %+v", it)
	}
	if len(got) != 2 {
		t.Errorf("conflicts: %+v", rep.Conflicts())
	}
	onEmail := 0
	list, _ := db.ListIndexes(ctx, lucidkeys.CollUsers)
	for _, ix := range list {
		if len(ix.Keys) == 1 && ix.Keys[0].Key == "email" {
			onEmail++
		}
	}
	if onEmail != 1 {
		t.Errorf("%d indexes on {email: 1}, want the existing one only: %+v", onEmail, list)
	}
	dr, err := db.SchemaDrift(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if it, _ := dr.Find(lucidkeys.CollUsers, mongostore.KindIndex, "users_email_unique"); it.State != mongostore.DriftDifferent || it.Existing != "email_1" || !strings.Contains(it.Detail, "unique false, want true") {
		t.Errorf("drift users_email_unique = %+v", it)
	}
	rep, err = db.EnsureSchemaWith(ctx, mongostore.EnsureOptions{ReplaceConflicting: true})
	if err != nil || len(rep.Conflicts()) != 0 || rep.Count(mongostore.ActionUpdated) != 2 {
		t.Fatalf("replace: %d conflicts, %d updated, %v", len(rep.Conflicts()), rep.Count(mongostore.ActionUpdated), err)
	}
	list, _ = db.ListIndexes(ctx, lucidkeys.CollUsers)
	names := map[string]mongostore.IndexInfo{}
	for _, ix := range list {
		names[ix.Name] = ix
	}
	if _, ok := names["email_1"]; ok || !names["users_email_unique"].Unique || names["users_status_asc"].Keys[0].Key != "status" {
		t.Errorf("after replace: %+v", list)
	}
	if l, err := db.ListIndexes(ctx, "no_such_collection"); err != nil || len(l) != 0 {
		t.Errorf("ListIndexes of a missing collection = %v, %v", l, err)
	}
}

// TestServiceSchema: a service extends a Lucid collection from a
// $jsonSchema file's bytes and adds an index, replaces another collection's
// schema from a bson.D, and the SDK validates and ensures exactly that.
func TestServiceSchema(t *testing.T) {
	ctx := ctxT(t)
	ext, err := mongostore.ParseJSONSchema([]byte(`{"$jsonSchema": {"bsonType": "object", "required": ["tenant_id"],
		"properties": {"tenant_id": {"bsonType": "string", "pattern": "^t-[0-9]+$", "description": "the service's tenant"}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	s, err := mongostore.LucidSchema().Extend(lucidkeys.CollUsers, ext, mongostore.IndexSpec{Name: "users_tenant_id_asc",
		Kind: lucidkeys.IndexAsc, Keys: bson.D{{Key: "tenant_id", Value: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	repl, err := mongostore.ParseJSONSchema(bson.D{{Key: "bsonType", Value: "object"}, {Key: "required", Value: bson.A{"user_id", "body"}},
		{Key: "properties", Value: bson.D{{Key: "body", Value: bson.D{{Key: "bsonType", Value: "string"}, {Key: "maxLength", Value: 10}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	s, err = s.With(mongostore.CollectionSpec{Name: lucidkeys.CollNotifications, Validator: repl})
	if err != nil {
		t.Fatal(err)
	}
	u := lucidExample(t, lucidkeys.CollUsers)
	var ve *mongostore.ValidationError
	if err := s.ValidateDocument(lucidkeys.CollUsers, u); !errors.As(err, &ve) || ve.Field != "tenant_id" || ve.Rule != "required" {
		t.Errorf("extended users without tenant_id: %v", err)
	}
	if err := s.ValidateDocument(lucidkeys.CollUsers, set(u, "tenant_id", "t-x")); !errors.As(err, &ve) || ve.Rule != "pattern" {
		t.Errorf("extended users with a bad tenant_id: %v", err)
	}
	if err := s.ValidateDocument(lucidkeys.CollUsers, set(u, "tenant_id", "t-1")); err != nil {
		t.Errorf("extended users: %v", err)
	}
	if err := mongostore.LucidSchema().ValidateDocument(lucidkeys.CollUsers, u); err != nil {
		t.Errorf("LucidSchema changed by Extend: %v", err)
	}
	if err := s.ValidateDocument(lucidkeys.CollNotifications, bson.D{{Key: "user_id", Value: "u"}, {Key: "body", Value: "0123456789x"}}); !errors.As(err, &ve) || ve.Rule != "maxLength" {
		t.Errorf("replaced notifications: %v", err)
	}
	if _, err := s.Extend(lucidkeys.CollUsers, nil, mongostore.IndexSpec{Name: "users_email_asc", Kind: lucidkeys.IndexAsc,
		Keys: bson.D{{Key: "email", Value: 1}}}); !errors.Is(err, mongostore.ErrInvalid) || !strings.Contains(err.Error(), "users_email_unique") {
		t.Errorf("second index on users' email keys = %v, want ErrInvalid naming users_email_unique", err)
	}
	for _, bad := range []any{`{"type": "object"}`, `{"properties": {"a": {"oneOf": []}}}`, `{"bsonType": "strnig"}`, `[1]`, `{"pattern": "("}`} {
		if _, err := mongostore.ParseJSONSchema(bad); !errors.Is(err, mongostore.ErrInvalid) {
			t.Errorf("ParseJSONSchema(%s) = %v, want ErrInvalid", bad, err)
		}
	}

	db := connect(t, mongostore.Config{Schema: s})
	if _, err := db.EnsureSchema(ctx); err != nil {
		t.Fatal(err)
	}
	found := false
	list, _ := db.ListIndexes(ctx, lucidkeys.CollUsers)
	for _, ix := range list {
		found = found || ix.Name == "users_tenant_id_asc"
	}
	if !found {
		t.Errorf("service index not created: %+v", list)
	}
	if _, err := db.InsertOne(ctx, lucidkeys.CollUsers, u); !errors.Is(err, mongostore.ErrValidation) {
		t.Errorf("InsertOne without tenant_id = %v", err)
	}
	if _, err := db.InsertOne(ctx, lucidkeys.CollUsers, set(u, "tenant_id", "t-1")); err != nil {
		t.Errorf("InsertOne: %v", err)
	}
}
