// Package ratelimit counts failed authentication attempts per key (a client address, a
// credential prefix) and blocks a key that fails too often, for a cooling-off period. The memory Limiter serves one replica;
// a Redis one (package redisstore) shares the counts across replicas.
package ratelimit
