// Package backup streams backups of the Lucid data tier (MongoDB, Redis, search
// indices and volumes) through compression and encryption to local disk or S3,
// with manifests, verification, restore, retention and a cron schedule.
package backup
