// Package mongostore is the MongoDB store of the Lucid data tier, built on
// go.mongodb.org/mongo-driver/v2: connection, health, stats, CRUD with
// client-side validation, typed collections and the schema registry of the
// 15 Lucid collections with their validators and indexes.
package mongostore
