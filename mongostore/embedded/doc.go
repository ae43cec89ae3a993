// Package embedded runs an in-process MongoDB-wire server (FerretDB with its
// SQLite backend in a directory) for hosts without MongoDB, the quickstart and
// tests. Importing mongostore does not pull in its dependencies.
package embedded
