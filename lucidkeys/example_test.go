package lucidkeys_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/HamiGames/lucid-data/lucidkeys"
)

func Example_keys() {
	k, err := lucidkeys.NewKey(lucidkeys.ServiceSession, "token", "abc123")
	if err != nil {
		panic(err)
	}
	fmt.Println(k)

	p, err := lucidkeys.ParseKey("lucid:lock:payment:tx789")
	fmt.Println(p.Service, p.Entity, p.ID, err)

	_, err = lucidkeys.NewKey("Session", "token", "abc123")
	fmt.Println(errors.Is(err, lucidkeys.ErrInvalid))

	pattern, _ := lucidkeys.Pattern(lucidkeys.ServiceCache, "manifest")
	fmt.Println(pattern)
	// Output:
	// lucid:session:token:abc123
	// lock payment tx789 <nil>
	// true
	// lucid:cache:manifest:*
}

func ExampleNewTaggedKey() {
	// A user's session tokens and session index share the tag "user42", so
	// Redis Cluster keeps them in one slot and one script can touch both.
	token, _ := lucidkeys.NewTaggedKey(lucidkeys.ServiceSession, "token", "user42", "abc123")
	index, _ := lucidkeys.NewTaggedKey(lucidkeys.ServiceSession, "index", "user42", "")
	fmt.Println(token, index)
	fmt.Println(token.HashTag(), token.Slot() == index.Slot())
	// Output:
	// lucid:session:token:{user42}:abc123 lucid:session:index:{user42}
	// user42 true
}

func ExampleSlot() {
	fmt.Println(lucidkeys.Slot("foo"))
	fmt.Println(lucidkeys.Slot("{user1000}.following") == lucidkeys.Slot("{user1000}.followers"))
	// Output:
	// 12182
	// true
}

func ExampleMonthlyIndex() {
	t := time.Date(2025, 10, 17, 9, 30, 0, 0, time.UTC)
	name, _ := lucidkeys.MonthlyIndex(lucidkeys.EntityAuditLogs, t)
	fmt.Println(name)

	entity, month, _ := lucidkeys.ParseMonthlyIndex(name)
	fmt.Println(entity, month.Format(time.RFC3339))

	pattern, _ := lucidkeys.IndexPattern(lucidkeys.EntityAuditLogs)
	write, _ := lucidkeys.WriteAlias(lucidkeys.EntityAuditLogs)
	read, _ := lucidkeys.ReadAlias(lucidkeys.EntityAuditLogs)
	fmt.Println(pattern, write, read)
	// Output:
	// lucid-audit-logs-2025.10
	// audit-logs 2025-10-01T00:00:00Z
	// lucid-audit-logs-* lucid-audit-logs-write lucid-audit-logs
}

func ExampleIndexName() {
	name, _ := lucidkeys.IndexName(lucidkeys.CollHardwareWallets, "wallet_address", lucidkeys.IndexUnique)
	fmt.Println(name)

	coll, field, kind, _ := lucidkeys.ParseIndexName(name)
	fmt.Println(coll, field, kind)

	nested, _ := lucidkeys.IndexName(lucidkeys.CollManifests, "device.serial", lucidkeys.IndexAsc)
	fmt.Println(nested)
	// Output:
	// hardware_wallets_wallet_address_unique
	// hardware_wallets wallet_address unique
	// manifests_device_serial_asc
}

func ExampleVolumeType_DefaultPath() {
	for _, v := range lucidkeys.VolumeTypes()[:3] {
		fmt.Println(v, v.DefaultPath())
	}
	// Output:
	// mongodb /data/mongodb
	// redis /data/redis
	// elasticsearch /data/elasticsearch
}

func ExamplePhaseForAge() {
	for _, days := range []int{1, 7, 45, 90} {
		fmt.Println(days, lucidkeys.PhaseForAge(time.Duration(days)*24*time.Hour))
	}
	// Output:
	// 1 hot
	// 7 warm
	// 45 cold
	// 90 delete
}
