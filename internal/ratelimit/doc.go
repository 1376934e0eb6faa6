// Package ratelimit counts failed authentication attempts per client address and blocks an
// address that fails too often, for a cooling-off period. The memory Limiter serves one replica;
// a Redis one (package redisstore) shares the counts across replicas.
package ratelimit
