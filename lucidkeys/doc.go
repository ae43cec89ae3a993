// Package lucidkeys holds the naming conventions of the Lucid data tier as pure
// functions without I/O: Redis keys, search index names, collection and index
// names, volume types, TTLs and lifecycle ages.
package lucidkeys
