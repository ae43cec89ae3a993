// Package cachetest is the conformance suite every implementation of the cache
// interfaces passes: Redis, Redis Cluster and the in-memory implementation.
package cachetest
