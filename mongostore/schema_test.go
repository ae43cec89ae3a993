//go:build !lucidfuzz

package mongostore_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/HamiGames/lucid-data/lucidkeys"
	"github.com/HamiGames/lucid-data/mongostore"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

func TestLucidSchemaRegistry(t *testing.T) {
	s := mongostore.LucidSchema()
	if got := len(s.Collections()); got != 15 {
		t.Fatalf("%d collections, want 15", got)
	}
	if n := s.IndexCount(); n < 45 {
		t.Fatalf("%d indexes, want 45+", n)
	}
	kinds := map[lucidkeys.IndexKind]int{}
	for _, c := range lucidkeys.Collections() {
		spec, ok := s.Collection(c)
		if !ok || spec.Validator == nil || len(spec.Indexes) == 0 {
			t.Errorf("collection %s: missing spec, validator or indexes", c)
			continue
		}
		for _, ix := range spec.Indexes {
			coll, _, kind, err := lucidkeys.ParseIndexName(ix.Name)
			if err != nil || coll != c || kind != ix.Kind {
				t.Errorf("index %s: not a {collection}_{field}_{type} name of %s: %v", ix.Name, c, err)
			}
			kinds[ix.Kind]++
		}
	}
	for _, k := range []lucidkeys.IndexKind{lucidkeys.IndexUnique, lucidkeys.IndexCompound, lucidkeys.IndexText, lucidkeys.IndexTTL} {
		if kinds[k] == 0 {
			t.Errorf("no %s index", k)
		}
	}
	for _, want := range []struct {
		c    lucidkeys.Collection
		name string
	}{
		{lucidkeys.CollUsers, "users_email_unique"}, {lucidkeys.CollUsers, "users_tron_address_unique"},
		{lucidkeys.CollSessions, "sessions_session_id_unique"}, {lucidkeys.CollAuditLogs, "audit_logs_timestamp_ttl"},
		{lucidkeys.CollTransactions, "transactions_tx_id_unique"}, {lucidkeys.CollBlocks, "blocks_block_hash_unique"},
		{lucidkeys.CollBlocks, "blocks_block_height_unique"}, {lucidkeys.CollAPIKeys, "api_keys_key_hash_unique"},
		{lucidkeys.CollRateLimits, "rate_limits_expires_at_ttl"},
	} {
		spec, _ := s.Collection(want.c)
		found := false
		for _, ix := range spec.Indexes {
			found = found || ix.Name == want.name
		}
		if !found {
			t.Errorf("index %s missing", want.name)
		}
	}
	if _, err := mongostore.NewSchema(mongostore.CollectionSpec{Name: "x", Validator: &mongostore.JSONSchema{BSONType: []string{"strin"}}}); !errors.Is(err, mongostore.ErrInvalid) {
		t.Errorf("NewSchema with bad bsonType = %v", err)
	}
	if _, err := mongostore.NewSchema(mongostore.CollectionSpec{Name: "x", Validator: &mongostore.JSONSchema{Pattern: "("}}); !errors.Is(err, mongostore.ErrInvalid) {
		t.Errorf("NewSchema with bad pattern = %v", err)
	}
}

func TestEnsureSchemaIdempotentAndDrift(t *testing.T) {
	ctx := ctxT(t)
	db := connect(t, mongostore.Config{})
	f, err := db.Features(ctx)
	if err != nil {
		t.Fatal(err)
	}
	schema := mongostore.LucidSchema()
	rep, err := db.EnsureSchema(ctx)
	if err != nil {
		t.Fatalf("EnsureSchema: %v", err)
	}
	if rep.Count(mongostore.ActionFailed) != 0 {
		t.Fatalf("failed items: %+v", rep.Items)
	}
	// Every wanted item was either applied or reported unsupported, and an
	// unsupported item is exactly one the probe says the server lacks.
	for _, it := range rep.Items {
		switch it.Action {
		case mongostore.ActionCreated:
		case mongostore.ActionUnsupported:
			if !errors.Is(it.Err, mongostore.ErrUnsupported) {
				t.Errorf("%s %s: unsupported without ErrUnsupported: %v", it.Kind, it.Name, it.Err)
			}
			switch {
			case it.Kind == mongostore.KindValidator && f.Validators,
				strings.HasSuffix(it.Name, "_ttl") && f.TTLIndexes,
				strings.HasSuffix(it.Name, "_text") && f.TextIndexes,
				strings.Contains(it.Err.Error(), "sparse") && f.SparseIndexes:
				t.Errorf("%s %s reported unsupported but the server supports it", it.Kind, it.Name)
			}
		default:
			t.Errorf("first run: %s %s %s", it.Kind, it.Name, it.Action)
		}
	}
	wantIdx := schema.IndexCount()
	created := 0
	for _, it := range rep.Items {
		if it.Kind == mongostore.KindIndex && (it.Action == mongostore.ActionCreated || it.Action == mongostore.ActionUnsupported) {
			created++
		}
	}
	if created != wantIdx {
		t.Errorf("%d index items, want %d", created, wantIdx)
	}
	// The real behaviour of what the probe says is supported.
	auditIdx := indexesOf(t, db, lucidkeys.CollAuditLogs)
	if ttl, ok := auditIdx["audit_logs_timestamp_ttl"]; f.TTLIndexes != ok {
		t.Errorf("TTL index present=%v, TTLIndexes=%v", ok, f.TTLIndexes)
	} else if ok && ttl["expireAfterSeconds"] == nil {
		t.Errorf("TTL index without expireAfterSeconds: %v", ttl)
	}
	if _, ok := auditIdx["audit_logs_action_message_text"]; f.TextIndexes != ok {
		t.Errorf("text index present=%v, TextIndexes=%v", ok, f.TextIndexes)
	}
	raw := connect(t, mongostore.Config{Database: db.Database().Name(), SkipValidation: true})
	_, err = raw.InsertOne(ctx, lucidkeys.CollUsers, bson.D{{Key: "email", Value: 42}})
	if f.Validators {
		var ve *mongostore.ValidationError
		if !errors.As(err, &ve) || !ve.Server {
			t.Errorf("server validator: insert of a bad user = %v, want a server ValidationError", err)
		}
	} else if err != nil {
		t.Errorf("no server validator: insert with client validation off = %v, want accepted", err)
	}
	if _, err := raw.DeleteMany(ctx, lucidkeys.CollUsers, mongostore.All); err != nil {
		t.Fatal(err)
	}

	// Second run changes nothing.
	rep2, err := db.EnsureSchema(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep2.Changed() {
		for _, it := range rep2.Items {
			if it.Action == mongostore.ActionCreated || it.Action == mongostore.ActionUpdated {
				t.Errorf("second run changed %s %s: %s", it.Kind, it.Name, it.Action)
			}
		}
	}
	if len(rep2.Items) != len(rep.Items) {
		t.Errorf("second run reported %d items, first %d", len(rep2.Items), len(rep.Items))
	}
	dr, err := db.SchemaDrift(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !dr.Clean() {
		t.Errorf("drift after EnsureSchema: %+v", dr.Items)
	}

	// Drift: a dropped index is missing, a foreign one extra.
	users := db.Collection(lucidkeys.CollUsers)
	if err := users.Indexes().DropOne(ctx, "users_status_asc"); err != nil {
		t.Fatal(err)
	}
	if _, err := users.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "nickname", Value: 1}}, Options: options.Index().SetName("users_nickname_asc")}); err != nil {
		t.Fatal(err)
	}
	// A changed spec: same name, not unique any more.
	blocks := db.Collection(lucidkeys.CollBlocks)
	if err := blocks.Indexes().DropOne(ctx, "blocks_block_hash_unique"); err != nil {
		t.Fatal(err)
	}
	if _, err := blocks.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "block_hash", Value: 1}}, Options: options.Index().SetName("blocks_block_hash_unique")}); err != nil {
		t.Fatal(err)
	}
	dr, err = db.SchemaDrift(ctx)
	if err != nil {
		t.Fatal(err)
	}
	expect := map[string]mongostore.DriftState{
		"users_status_asc":         mongostore.DriftMissing,
		"users_nickname_asc":       mongostore.DriftExtra,
		"blocks_block_hash_unique": mongostore.DriftDifferent,
	}
	for name, st := range expect {
		coll := lucidkeys.CollUsers
		if strings.HasPrefix(name, "blocks") {
			coll = lucidkeys.CollBlocks
		}
		it, ok := dr.Find(coll, mongostore.KindIndex, name)
		if !ok || it.State != st {
			t.Errorf("drift %s = %+v, want %s", name, it, st)
		}
	}
	if dr.Clean() {
		t.Error("drift reported clean")
	}
	if it, _ := dr.Find(lucidkeys.CollBlocks, mongostore.KindIndex, "blocks_block_hash_unique"); !strings.Contains(it.Detail, "server has blocks_block_hash_unique {block_hash:1}") ||
		!strings.Contains(it.Detail, "registry wants blocks_block_hash_unique {block_hash:1} unique") {
		t.Errorf("conflict detail does not show both definitions: %q", it.Detail)
	}
	// Drift changed nothing; EnsureSchema creates what is missing, leaves
	// the conflicting index alone (reported) and the extra one too.
	rep3, err := db.EnsureSchema(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep3.Count(mongostore.ActionCreated) != 1 || rep3.Count(mongostore.ActionUpdated) != 0 || len(rep3.Conflicts()) != 1 ||
		rep3.Conflicts()[0].Name != "blocks_block_hash_unique" || rep3.Conflicts()[0].Existing != "blocks_block_hash_unique" {
		t.Errorf("repair run: created %d updated %d conflicts %+v, want 1, 0 and blocks_block_hash_unique", rep3.Count(mongostore.ActionCreated), rep3.Count(mongostore.ActionUpdated), rep3.Conflicts())
	}
	if ix := indexesOf(t, db, lucidkeys.CollBlocks)["blocks_block_hash_unique"]; ix["unique"] == true {
		t.Errorf("conflicting index replaced without being asked: %v", ix)
	}
	// Asked to, it replaces the conflicting index.
	rep3, err = db.EnsureSchemaWith(ctx, mongostore.EnsureOptions{ReplaceConflicting: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep3.Count(mongostore.ActionCreated) != 0 || rep3.Count(mongostore.ActionUpdated) != 1 || len(rep3.Conflicts()) != 0 {
		t.Errorf("replace run: created %d updated %d conflicts %d, want 0, 1, 0", rep3.Count(mongostore.ActionCreated), rep3.Count(mongostore.ActionUpdated), len(rep3.Conflicts()))
	}
	if ix := indexesOf(t, db, lucidkeys.CollBlocks)["blocks_block_hash_unique"]; ix["unique"] != true {
		t.Errorf("blocks_block_hash_unique after replace: %v", ix)
	}
	dr, _ = db.SchemaDrift(ctx)
	if it, _ := dr.Find(lucidkeys.CollUsers, mongostore.KindIndex, "users_nickname_asc"); it.State != mongostore.DriftExtra {
		t.Errorf("extra index not kept: %+v", it)
	}

	// A changed validator: collMod where supported, unsupported otherwise.
	specs := schema.Collections()
	var changed []mongostore.CollectionSpec
	for _, c := range specs {
		cc := *c
		if cc.Name == lucidkeys.CollSystemConfig {
			v := *cc.Validator
			v.Required = append([]string{"version"}, v.Required...)
			cc.Validator = &v
		}
		changed = append(changed, cc)
	}
	s2, err := mongostore.NewSchema(changed...)
	if err != nil {
		t.Fatal(err)
	}
	db2 := connect(t, mongostore.Config{Database: db.Database().Name(), Schema: s2})
	rep4, err := db2.EnsureSchema(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range rep4.Items {
		if it.Collection != lucidkeys.CollSystemConfig || it.Kind != mongostore.KindValidator {
			continue
		}
		if f.Validators && it.Action != mongostore.ActionUpdated {
			t.Errorf("changed validator: %s, want updated", it.Action)
		}
		if !f.Validators && (it.Action != mongostore.ActionUnsupported || !errors.Is(it.Err, mongostore.ErrUnsupported)) {
			t.Errorf("changed validator on a server without validators: %s %v", it.Action, it.Err)
		}
	}
}

func indexesOf(t *testing.T, db *mongostore.DB, c lucidkeys.Collection) map[string]bson.M {
	t.Helper()
	ctx := ctxT(t)
	cur, err := db.Collection(c).Indexes().List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var all []bson.M
	if err := cur.All(ctx, &all); err != nil {
		t.Fatal(err)
	}
	out := map[string]bson.M{}
	for _, ix := range all {
		out[ix["name"].(string)] = ix
	}
	return out
}

func TestValidationEveryCollection(t *testing.T) {
	ctx := ctxT(t)
	db := connect(t, mongostore.Config{})
	s := db.Schema()
	for _, c := range lucidkeys.Collections() {
		good := goodDocs(1)[c]
		if err := s.ValidateDocument(c, good); err != nil {
			t.Errorf("%s: good document rejected: %v", c, err)
			continue
		}
		if _, err := db.InsertOne(ctx, c, good); err != nil {
			t.Errorf("%s: insert good: %v", c, err)
		}
		spec, _ := s.Collection(c)
		// Each required field missing.
		for _, r := range spec.Validator.Required {
			err := s.ValidateDocument(c, without(good, r))
			var ve *mongostore.ValidationError
			if !errors.As(err, &ve) || ve.Field != r || ve.Rule != "required" || ve.Collection != string(c) {
				t.Errorf("%s without %s: %v", c, r, err)
			}
			if _, err := db.InsertOne(ctx, c, without(good, r)); !errors.Is(err, mongostore.ErrValidation) {
				t.Errorf("%s insert without %s: %v", c, r, err)
			}
		}
		// The first required field with a wrong type (an array never fits
		// a field with a bsonType that is not array).
		for _, r := range spec.Validator.Required {
			p := spec.Validator.Properties[r]
			if p == nil || len(p.BSONType) == 0 || p.BSONType[0] == "array" {
				continue
			}
			err := s.ValidateDocument(c, set(good, r, bson.A{1}))
			var ve *mongostore.ValidationError
			if !errors.As(err, &ve) || ve.Field != r || ve.Rule != "bsonType" {
				t.Errorf("%s with %s wrong type: %v", c, r, err)
			}
			if !strings.Contains(err.Error(), r) || !strings.Contains(err.Error(), "bsonType") {
				t.Errorf("message %q does not name field and rule", err)
			}
			break
		}
	}
	// Specific rules.
	u := goodDocs(1)[lucidkeys.CollUsers]
	for _, tc := range []struct {
		coll        lucidkeys.Collection
		doc         bson.D
		field, rule string
	}{
		{lucidkeys.CollUsers, set(u, "email", "no-at-sign"), "email", "pattern"},
		{lucidkeys.CollUsers, set(u, "roles", bson.A{"User", "root"}), "roles.1", "enum"},
		{lucidkeys.CollBlocks, set(goodDocs(1)[lucidkeys.CollBlocks], "block_height", int64(-1)), "block_height", "minimum"},
		{lucidkeys.CollBlocks, set(goodDocs(1)[lucidkeys.CollBlocks], "block_height", int32(1)), "block_height", "bsonType"},
		{lucidkeys.CollTransactions, set(goodDocs(1)[lucidkeys.CollTransactions], "tx_type", "transfer"), "tx_type", "enum"},
		{lucidkeys.CollTrustPolicies, set(goodDocs(1)[lucidkeys.CollTrustPolicies], "rules", bson.A{bson.D{{Key: "rule_type", Value: "access"}, {Key: "condition", Value: "c"}, {Key: "action", Value: "maybe"}}}), "rules.0.action", "enum"},
		{lucidkeys.CollTrustPolicies, set(goodDocs(1)[lucidkeys.CollTrustPolicies], "version", int32(1)), "version", "bsonType"},
		{lucidkeys.CollAPIKeys, set(goodDocs(1)[lucidkeys.CollAPIKeys], "scopes", bson.A{"BAD SCOPE"}), "scopes.0", "pattern"},
	} {
		err := db.Schema().ValidateDocument(tc.coll, tc.doc)
		var ve *mongostore.ValidationError
		if !errors.As(err, &ve) || ve.Field != tc.field || ve.Rule != tc.rule {
			t.Errorf("%s %s/%s: got %v", tc.coll, tc.field, tc.rule, err)
		}
	}
	// additionalProperties on a closed schema.
	closed, err := mongostore.NewSchema(mongostore.CollectionSpec{Name: "closed", Validator: &mongostore.JSONSchema{
		BSONType: []string{"object"}, AdditionalProperties: new(bool),
		Properties: map[string]*mongostore.JSONSchema{"a": {BSONType: []string{"int"}}, "sub": {BSONType: []string{"object"}, AdditionalProperties: new(bool), Properties: map[string]*mongostore.JSONSchema{"x": {}}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := closed.ValidateDocument("closed", bson.D{{Key: "_id", Value: 1}, {Key: "a", Value: int32(1)}}); err != nil {
		t.Errorf("closed schema rejected _id: %v", err)
	}
	var ve *mongostore.ValidationError
	if err := closed.ValidateDocument("closed", bson.D{{Key: "b", Value: 1}}); !errors.As(err, &ve) || ve.Rule != "additionalProperties" || ve.Field != "b" {
		t.Errorf("closed schema extra field: %v", err)
	}
	if err := closed.ValidateUpdate("closed", bson.D{{Key: "$set", Value: bson.D{{Key: "sub.y", Value: 1}}}}); !errors.As(err, &ve) || ve.Field != "sub.y" {
		t.Errorf("closed schema $set of unknown nested field: %v", err)
	}
}

func TestValidateUpdate(t *testing.T) {
	ctx := ctxT(t)
	db := connect(t, mongostore.Config{})
	s := db.Schema()
	tp := lucidkeys.CollTrustPolicies
	if _, err := db.InsertOne(ctx, tp, goodDocs(1)[tp]); err != nil {
		t.Fatal(err)
	}
	sd := func(op string, kv ...any) bson.D {
		var d bson.D
		for i := 0; i < len(kv); i += 2 {
			d = append(d, bson.E{Key: kv[i].(string), Value: kv[i+1]})
		}
		return bson.D{{Key: op, Value: d}}
	}
	rule := func(typ, cond, action string) bson.D {
		return bson.D{{Key: "rule_type", Value: typ}, {Key: "condition", Value: cond}, {Key: "action", Value: action}}
	}
	ok := []bson.D{
		sd("$set", "name", "renamed", "rules.0.action", "deny"),
		sd("$set", "rules.$[].condition", "user_role == 'Admin'"),
		sd("$setOnInsert", "scope", bson.D{{Key: "applies_to", Value: bson.A{"all_users"}}}),
		sd("$unset", "description", ""),
		sd("$inc", "counter", int32(1)),
		sd("$currentDate", "updated_at", true),
		sd("$push", "rules", rule("data", "x", "deny")),
		sd("$addToSet", "rules", bson.D{{Key: "$each", Value: bson.A{rule("node", "y", "require_approval")}}}),
		sd("$set", "unknown_field", 1), // the Lucid schemas are open
		sd("$set", "description", nil), // ["string", "null"]
	}
	for _, u := range ok {
		if err := s.ValidateUpdate(tp, u); err != nil {
			t.Errorf("ValidateUpdate(%v) = %v", u, err)
		}
	}
	if _, err := db.UpdateOne(ctx, tp, bson.D{{Key: "policy_id", Value: "p_1"}}, ok[0]); err != nil {
		t.Errorf("UpdateOne valid: %v", err)
	}
	bad := []struct {
		u           bson.D
		field, rule string
	}{
		{sd("$set", "rules.0.action", "maybe"), "rules.0.action", "enum"},
		{sd("$set", "version", int32(2)), "version", "bsonType"},
		{sd("$set", "status", "yes"), "status", "enum"},
		{sd("$setOnInsert", "scope", "galaxy"), "scope", "bsonType"},
		{sd("$unset", "name", ""), "name", "required"},
		{sd("$unset", "rules.0.action", ""), "rules.0.action", "required"},
		{sd("$rename", "policy_id", "pid"), "policy_id", "required"},
		{sd("$inc", "name", int32(1)), "name", "bsonType"},
		{sd("$currentDate", "name", true), "name", "bsonType"},
		{sd("$push", "rules", bson.D{{Key: "rule_type", Value: "access"}}), "rules.$.condition", "required"},
		{sd("$max", "version", int32(-3)), "version", "bsonType"},
	}
	for _, b := range bad {
		err := s.ValidateUpdate(tp, b.u)
		var ve *mongostore.ValidationError
		if !errors.As(err, &ve) || ve.Field != b.field || ve.Rule != b.rule {
			t.Errorf("ValidateUpdate(%v) = %v, want field %s rule %s", b.u, err, b.field, b.rule)
		}
		if _, err := db.UpdateOne(ctx, tp, bson.D{{Key: "policy_id", Value: "p_1"}}, b.u); !errors.Is(err, mongostore.ErrValidation) {
			t.Errorf("UpdateOne(%v) = %v, want ErrValidation", b.u, err)
		}
	}
	for _, u := range []any{bson.D{}, bson.D{{Key: "name", Value: "x"}}, bson.D{{Key: "$set", Value: 1}}, sd("$inc", "counter", "one")} {
		if err := s.ValidateUpdate(tp, u); !errors.Is(err, mongostore.ErrInvalid) {
			t.Errorf("ValidateUpdate(%v) = %v, want ErrInvalid", u, err)
		}
	}
	// Pipeline updates go to the server unchecked.
	if err := s.ValidateUpdate(tp, mongo.Pipeline{{{Key: "$set", Value: bson.D{{Key: "name", Value: "p"}}}}}); err != nil {
		t.Errorf("pipeline update: %v", err)
	}
	// SkipValidation turns the client-side checks off.
	raw := connect(t, mongostore.Config{Database: db.Database().Name(), SkipValidation: true})
	if _, err := raw.UpdateOne(ctx, tp, bson.D{{Key: "policy_id", Value: "p_1"}}, sd("$set", "status", "yes")); err != nil {
		if f, _ := raw.Features(ctx); !f.Validators {
			t.Errorf("SkipValidation update: %v", err)
		}
	}
	_ = time.Second
}

// TestEnsureSchemaCollections: EnsureOptions.Collections sets up only the
// collections named (a restore of two Lucid collections creates no other),
// and a name outside the registry is refused before anything is created.
func TestEnsureSchemaCollections(t *testing.T) {
	ctx := ctxT(t)
	db := connect(t, mongostore.Config{})
	if _, err := db.EnsureSchemaWith(ctx, mongostore.EnsureOptions{Collections: []lucidkeys.Collection{lucidkeys.CollUsers, "no_such"}}); !errors.Is(err, mongostore.ErrInvalid) {
		t.Fatalf("unknown collection: %v, want ErrInvalid", err)
	}
	if names, err := db.Database().ListCollectionNames(ctx, bson.D{}); err != nil || len(names) != 0 {
		t.Fatalf("after a refused run: collections %v, %v; want none", names, err)
	}
	rep, err := db.EnsureSchemaWith(ctx, mongostore.EnsureOptions{Collections: []lucidkeys.Collection{lucidkeys.CollUsers, lucidkeys.CollSessions}})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range rep.Items {
		if it.Collection != lucidkeys.CollUsers && it.Collection != lucidkeys.CollSessions {
			t.Errorf("item of %s reported: %+v", it.Collection, it)
		}
	}
	names, err := db.Database().ListCollectionNames(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"sessions", "users"}) {
		t.Fatalf("collections %v, want [sessions users]", names)
	}
	// The rest of the registry comes with a full run, the two are unchanged.
	rep, err = db.EnsureSchema(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range rep.Items {
		if (it.Collection == lucidkeys.CollUsers || it.Collection == lucidkeys.CollSessions) && it.Action == mongostore.ActionCreated {
			t.Errorf("full run created %s %s again", it.Kind, it.Name)
		}
	}
}
