// Package redisstore keeps broker's shared state in Redis, so that several replicas agree on it:
// runs and their token hashes (Client.Runs, a runs.Store), the signing key set (Client.Keys, a
// keys.Backend) and the failed-authentication counts (Client.Limiter, a ratelimit.Limiter).
//
// # Keys
//
// Every key starts with Options.Prefix (default "broker:"):
//
//	<prefix>run:<id>              JSON of the run and its token hash; expires at run.ExpiresAt
//	<prefix>runtoken:<sha256 hex> the run id; expires at run.ExpiresAt, deleted when the run
//	                              finishes (its token is revoked)
//	<prefix>keyset                JSON of the key set: its generation and the id of its key
//	                              encryption key in clear, every key with its private key
//	                              (PKCS#8) sealed with AES-256-GCM
//	<prefix>{transit}:keyset      JSON of the vault-transit key set's metadata (Client.TransitMeta):
//	                              its generation, every key's kid, schedule and Transit key name
//	                              and version; no private key (those stay in Vault)
//	<prefix>authfail:<key>        failures of a limiter key (ip:<client address or /64>, or
//	                              cred:<hash of a credential's first characters>) within the
//	                              policy's window; expires with the window
//	<prefix>authblock:<key>       present while the key is blocked; expires with the block
//
// The run token itself is never stored, only its SHA-256. The Lua scripts reach keys derived
// from others' values (a run from its token key), so the package targets a single Redis server
// or a primary with replicas, not Redis Cluster.
//
// # Security
//
// The Keys backend places the broker's private signing keys in Redis, encrypted under a
// KeyEncryptionKey that is never stored in Redis: a random 96-bit nonce per write, and the
// format, the Redis key name and the generation authenticated with the ciphertext. Whoever can
// read <prefix>keyset (a Redis user, a replica, an RDB or AOF file, a backup) learns the key ids
// and schedule, not the private keys; whoever can also read the key encryption key can sign
// tokens that every relying party trusts. A key set in clear, written by an older broker, is
// refused rather than used or re-encrypted, since its keys may have been copied. Still restrict
// access to Redis: whoever can write it can roll the key set back to an older generation or
// delete it. Use a dedicated instance or ACL user, TLS (rediss://) off the host, and no shared
// credentials.
//
// # Failures
//
// Each call is bounded by Options.Timeout (dial, read, write, pool wait and an overall context
// deadline), so an unreachable Redis makes calls fail within about that time instead of
// hanging. Such failures wrap ErrUnavailable and, in the Runs and Limiter views, also
// runs.ErrUnavailable or ratelimit.ErrUnavailable, which the server turns into 503. The
// underlying go-redis client reconnects on its own once Redis is back. Errors never hold a run
// token, a token hash or key material.
package redisstore
