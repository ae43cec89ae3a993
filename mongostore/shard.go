package mongostore

import (
	"context"

	"github.com/HamiGames/lucid-data/lucidkeys"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// ShardKey is the shard key of one collection and why it was chosen.
type ShardKey struct {
	// Key is the shard key document, e.g. {user_id: "hashed"}.
	Key bson.D
	// Unique asks shardCollection to enforce uniqueness of a ranged key.
	Unique bool
	// Why explains the choice.
	Why string
}

// ShardKeys returns the shard key of each Lucid collection. The choice
// follows the queries each collection serves:
//
//   - users {user_id: hashed}: lookups are by id; hashing spreads sign-ups,
//     which arrive in id order, evenly. Lookups by email go to every shard,
//     which is acceptable at login rates.
//   - sessions {user_id: hashed}: a user's sessions live on one shard, so
//     "list/revoke my sessions" is a single-shard query; hashing avoids the
//     hot shard a time-ordered key would make.
//   - blocks {height: 1} (ranged): the chain is read by height ranges (sync,
//     explorers); ranges keep neighbouring blocks on one shard. Appends go to
//     the last chunk, which the balancer splits and moves; the write rate of
//     a chain is low.
//   - transactions {tx_id: hashed}: ids are random hashes already, lookups
//     are by id; per-address history queries scatter but are paginated.
//   - trust_policies {policy_id: 1}: small and read-mostly; ranged by id.
//   - manifests {manifest_id: hashed}, chunks {manifest_id: 1, index: 1}
//     (ranged: a manifest's chunks read in order from one shard),
//     merkle_trees {manifest_id: hashed}: keyed by the manifest they belong
//     to, so rebuilding one session touches one shard.
//   - hardware_wallets {user_id: hashed}: a user's devices together.
//   - api_keys {key_hash: hashed}: every request looks a key up by hash.
//   - rate_limits {key: hashed}: counters are hit by key at request rate;
//     hashing spreads hot keys' neighbours.
//   - audit_logs {actor_id: hashed, timestamp: 1}: an actor's trail in time
//     order on one shard while writes spread across actors.
//   - notifications {user_id: hashed}: a user's inbox on one shard.
//   - analytics {metric: 1, timestamp: 1}: time series per metric, range
//     scans by metric and time.
//   - system_config: not sharded (a handful of documents); absent from the map.
func ShardKeys() map[lucidkeys.Collection]ShardKey {
	h := func(f string) bson.D { return bson.D{{Key: f, Value: "hashed"}} }
	return map[lucidkeys.Collection]ShardKey{
		lucidkeys.CollUsers:           {Key: h("user_id"), Why: "lookups by id; even spread of sign-ups"},
		lucidkeys.CollSessions:        {Key: h("user_id"), Why: "a user's sessions on one shard; no time hot spot"},
		lucidkeys.CollBlocks:          {Key: bson.D{{Key: "block_height", Value: 1}}, Unique: true, Why: "range reads by height"},
		lucidkeys.CollTransactions:    {Key: h("tx_id"), Why: "random ids, lookups by id"},
		lucidkeys.CollTrustPolicies:   {Key: bson.D{{Key: "policy_id", Value: 1}}, Why: "small, read-mostly"},
		lucidkeys.CollManifests:       {Key: h("manifest_id"), Why: "lookups by manifest"},
		lucidkeys.CollChunks:          {Key: bson.D{{Key: "manifest_id", Value: 1}, {Key: "index", Value: 1}}, Unique: true, Why: "a manifest's chunks in order on one shard"},
		lucidkeys.CollMerkleTrees:     {Key: h("manifest_id"), Why: "with the manifest"},
		lucidkeys.CollHardwareWallets: {Key: h("user_id"), Why: "a user's devices together"},
		lucidkeys.CollAPIKeys:         {Key: h("key_hash"), Why: "every request looks up by hash"},
		lucidkeys.CollRateLimits:      {Key: h("key"), Why: "hot counters spread by key"},
		lucidkeys.CollAuditLogs:       {Key: bson.D{{Key: "actor_id", Value: "hashed"}, {Key: "timestamp", Value: 1}}, Why: "an actor's trail in time order"},
		lucidkeys.CollNotifications:   {Key: h("user_id"), Why: "a user's inbox on one shard"},
		lucidkeys.CollAnalytics:       {Key: bson.D{{Key: "metric", Value: 1}, {Key: "timestamp", Value: 1}}, Why: "time series per metric"},
	}
}

// requireMongos returns ErrUnsupported unless the server is a mongos.
func (d *DB) requireMongos(ctx context.Context, op string) error {
	h, err := d.hello(ctx)
	if err != nil {
		return err
	}
	if h.Msg != "isdbgrid" {
		return &Error{Kind: ErrUnsupported, Op: op, Err: errNotMongos}
	}
	return nil
}

// EnableSharding enables sharding for the database. On a server that is
// not a mongos (probed with hello) it returns ErrUnsupported.
func (d *DB) EnableSharding(ctx context.Context) error {
	const op = "enableSharding"
	if err := d.requireMongos(ctx, op); err != nil {
		return err
	}
	err := d.client.Database("admin").RunCommand(ctx, bson.D{{Key: "enableSharding", Value: d.db.Name()}}).Err()
	return d.mapErr(ctx, op, "", err)
}

// ShardCollection shards coll with its key from ShardKeys. A collection
// without an entry returns ErrInvalid; a server that is not a mongos
// returns ErrUnsupported. Sharding an already sharded collection with the
// same key succeeds (the server treats it as a no-op).
func (d *DB) ShardCollection(ctx context.Context, coll lucidkeys.Collection) error {
	op := string(coll) + ".shardCollection"
	sk, ok := ShardKeys()[coll]
	if !ok {
		return invalidf(op, "no shard key for collection %q", coll)
	}
	if err := d.requireMongos(ctx, op); err != nil {
		return err
	}
	cmd := bson.D{{Key: "shardCollection", Value: d.db.Name() + "." + string(coll)}, {Key: "key", Value: sk.Key}}
	if sk.Unique {
		cmd = append(cmd, bson.E{Key: "unique", Value: true})
	}
	err := d.client.Database("admin").RunCommand(ctx, cmd).Err()
	return d.mapErr(ctx, op, string(coll), err)
}
