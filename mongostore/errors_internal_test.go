package mongostore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// retryableErr has the shape of the driver's pool-cleared error.
type retryableErr struct{}

func (retryableErr) Error() string   { return "connection pool was cleared" }
func (retryableErr) Retryable() bool { return true }

// The classification of server replies that FerretDB never sends (a real
// replica set's NotWritablePrimary, labelled errors, MongoDB's own E11000
// and validation reports), checked on the exact reply shapes.
func TestClassifyServerReplies(t *testing.T) {
	d := &DB{}
	transient := []error{
		mongo.CommandError{Code: codeNotWritablePrimary, Name: "NotWritablePrimary"},
		mongo.CommandError{Code: codeInterruptedReplChange},
		mongo.CommandError{Code: 1, Labels: []string{"RetryableWriteError"}},
		mongo.CommandError{Code: 1, Labels: []string{"NetworkError"}},
		mongo.WriteException{WriteConcernError: &mongo.WriteConcernError{Code: codePrimarySteppedDown}, Labels: []string{"RetryableWriteError"}},
		fmt.Errorf("wrapped: %w", retryableErr{}),
	}
	for _, err := range transient {
		if !isTransient(err) {
			t.Errorf("isTransient(%v) = false", err)
		}
		if m := d.mapErr(context.Background(), "op", "c", err); !errors.Is(m, ErrUnavailable) {
			t.Errorf("mapErr(%v) = %v, want ErrUnavailable", err, m)
		}
	}
	for _, err := range []error{
		context.Canceled,
		mongo.CommandError{Code: 11000, Message: "E11000 duplicate key error"},
		mongo.CommandError{Code: codeBadValue},
		errors.New("other"),
	} {
		if isTransient(err) {
			t.Errorf("isTransient(%v) = true", err)
		}
	}
	for code, want := range map[int]error{
		codeNotImplemented: ErrUnsupported, codeCommandNotFound: ErrUnsupported, codeChangeStreamNotSupported: ErrUnsupported,
		codeBadValue: ErrInvalid, codeDollarPrefixedField: ErrInvalid, codeNamespaceNotFound: ErrNotFound,
	} {
		if m := d.mapErr(context.Background(), "op", "c", mongo.CommandError{Code: int32(code)}); !errors.Is(m, want) {
			t.Errorf("code %d: %v, want %v", code, m, want)
		}
	}
	if m := d.mapErr(context.Background(), "op", "c", mongo.ErrClientDisconnected); !errors.Is(m, ErrClosed) {
		t.Errorf("disconnected: %v", m)
	}

	// MongoDB's duplicate key message names the index.
	dup := mongo.WriteException{WriteErrors: mongo.WriteErrors{{Code: 11000,
		Message: `E11000 duplicate key error collection: lucid.users index: users_email_unique dup key: { email: "a@b.c" }`}}}
	var de *DuplicateError
	if m := d.mapErr(context.Background(), "users.insertOne", "users", dup); !errors.As(m, &de) || de.Index != "users_email_unique" || de.Key != `{ email: "a@b.c" }` {
		t.Errorf("dup: %v (%+v)", m, de)
	}
	// MongoDB 5+ validation report (errInfo.details).
	details, _ := bson.Marshal(bson.M{"failingDocumentId": 1, "details": bson.M{
		"operatorName": "$jsonSchema",
		"schemaRulesNotSatisfied": bson.A{bson.M{
			"operatorName": "properties",
			"propertiesNotSatisfied": bson.A{bson.M{
				"propertyName": "email",
				"details":      bson.A{bson.M{"operatorName": "pattern", "specifiedAs": bson.M{"pattern": "x"}, "reason": "regular expression did not match"}},
			}},
		}},
	}})
	vwe := mongo.WriteException{WriteErrors: mongo.WriteErrors{{Code: codeDocumentValidation, Message: "Document failed validation", Details: details}}}
	var ve *ValidationError
	if m := d.mapErr(context.Background(), "users.insertOne", "users", vwe); !errors.As(m, &ve) || ve.Field != "email" || ve.Rule != "pattern" || !ve.Server {
		t.Errorf("validation: %v (%+v)", m, ve)
	}
	details, _ = bson.Marshal(bson.M{"details": bson.M{"operatorName": "$jsonSchema", "schemaRulesNotSatisfied": bson.A{
		bson.M{"operatorName": "required", "specifiedAs": bson.M{"required": bson.A{"email"}}, "missingProperties": bson.A{"email"}}}}})
	vwe.WriteErrors[0].Details = details
	if m := d.mapErr(context.Background(), "users.insertOne", "users", vwe); !errors.As(m, &ve) || ve.Field != "email" || ve.Rule != "required" {
		t.Errorf("validation required: %v (%+v)", m, ve)
	}
	// FerretDB's unique violation on update.
	fe := mongo.CommandError{Code: 1, Name: "InternalError", Message: "constraint failed: UNIQUE constraint failed: index 'trust_policies_5e7cc513_trust_policies_policy_id_version_unique' (2067)"}
	if m := d.mapErr(context.Background(), "trust_policies.updateOne", "trust_policies", fe); !errors.As(m, &de) || de.Index != "trust_policies_policy_id_version_unique" {
		t.Errorf("FerretDB unique: %v", m)
	}
	// Errors are never wrapped twice and always start with the package name.
	once := d.mapErr(context.Background(), "a", "c", mongo.ErrNoDocuments)
	if again := d.mapErr(context.Background(), "b", "c", once); again != once || !strings.HasPrefix(once.Error(), "mongostore: ") {
		t.Errorf("re-wrapped: %v", again)
	}
}

func TestRedactErr(t *testing.T) {
	d := &DB{secret: secretsOf(Config{URI: "mongodb://u:p%40ss@h/", Password: "hunter2"})}
	err := d.redactErr(errors.New("auth failed for u:p@ss and hunter2 at mongodb://u:p%40ss@h/"))
	if s := err.Error(); strings.Contains(s, "hunter2") || strings.Contains(s, "p@ss") || strings.Contains(s, "p%40ss") {
		t.Errorf("redactErr leaked: %s", s)
	}
}
