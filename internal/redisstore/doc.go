// Package redisstore keeps broker's shared state in Redis, so that several replicas agree on it:
// runs and their token hashes (Client.Runs, a runs.Store), the signing key set (Client.Keys, a
// keys.Backend), the failed-authentication counts (Client.Limiter, a ratelimit.Limiter), the
// audit chain (Client.Audit) and the catalog (Client.Catalog). Redis is one server, a primary
// found and followed through Redis Sentinel, or a Redis Cluster; the views behave the same on
// all three.
//
// # Keys
//
// Every key starts with Options.Prefix (default "broker:"). On one server (Options.URL) and on a
// Sentinel-watched primary (Options.Sentinel) the keys are:
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
//	<prefix>audit:events, <prefix>audit:tail, <prefix>audit:space:<id>
//	                              the audit chain (see Client.Audit)
//	<prefix>audit:landed:<id>     the last hash of a replica's last appended audit batch, so a
//	                              batch sent again after a lost reply lands once; expires after
//	                              an hour
//	<prefix>audit:keyset          JSON of the key set the audit trail last recorded
//	                              (Client.AuditKeySet): its generation, every key's kid, alg and
//	                              schedule; no key material
//	<prefix>{catalog}:objects, <prefix>{catalog}:rev, <prefix>{catalog}:commit
//	                              the catalog (see Client.Catalog)
//
// The run token itself is never stored, only its SHA-256.
//
// # Redis Cluster
//
// On a Redis Cluster (Options.Cluster) every Lua script and transaction must touch keys of one
// hash slot, so the keys used together carry a shared hash tag:
//
//	<prefix>{runs}:run:<id>, <prefix>{runs}:runtoken:<sha256 hex>
//	                              a run and its token key are written together and a token
//	                              key leads to its run inside one script
//	<prefix>{audit}:audit:events, ...:tail, ...:space:<id>, ...:keyset
//	                              every append extends the list, the tail and indexes at once
//	<prefix>authfail:{<key>}, <prefix>authblock:{<key>}
//	                              one slot per limiter key, so counts spread over the nodes
//	<prefix>keyset, <prefix>{catalog}:...
//	                              as on one server (one key; one tag already)
//
// A run's keys cannot be tagged by the run alone: GetByToken knows only the token's hash, and
// its script reads the run the token key names. So all runs share one slot, as the audit chain
// does by nature; the limiter, the key set and the catalog lie on others. The tags are used on
// a cluster only: on one server and on Sentinel the names stay those older brokers wrote, so
// an upgrade, or a move from one server to a Sentinel-watched primary that replicates it,
// finds its runs, audit trail and key set where they were. A cluster starts empty.
//
// Scripts and transactions never reach keys they are not given (or, for GetByToken, that
// lie outside their tag), and nothing scans the key space, so no call has to visit every
// primary. Catalog notices use classic pub/sub, which a cluster broadcasts to every node; the
// Sentinel client subscribes again on the new primary when its connection to the old one
// breaks. A lost notice only delays a replica until it polls the catalog's revision.
//
// # Round trips of the token path
//
// A run's first token on a replica costs Redis a run lookup (GetByToken) before its signature
// and an audit append after it; its later tokens cost the append alone. The Client keeps the
// runs GetByToken read, by token hash, with the SHA-1 of each stored record (runs.Cache, at
// most 4,096; none on a cluster, where the runs and the audit chain lie in different slots). A
// token minted from a cached run is appended with that run's version (audit.CheckedStore): the
// append's script checks that the token key still names the run and that the record's
// redis.sha1hex is still the cached one, and otherwise appends none of the batch and names the
// events whose runs changed; those fail with runs.ErrChanged and the rest go again. So a run
// updated, finished or deleted by any replica gets no token from a stale cache: the check and
// the event are one atomic step, later than the lookup it replaces. Lookups and appends go
// through one queue per Client: while one round trip is on its way, the
// lookups and audit events that arrive meanwhile wait and leave together as the next one, in
// one pipeline, the events as one batch chained onto the tail. So under load a lookup and the
// audit batch of the tokens signed just before it cost Redis one read and one write between
// them. A caller that finds no round trip on its way makes it itself. While the process has
// a core to spare (PollWhenSpare), a round trip's connection polls the socket for the reply
// for up to 150 µs before it sleeps: a sleeping thread's wake-up costs more than a nearby
// Redis takes to answer. Over a plain TCP or Unix connection only; a TLS client does not poll.
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
// hanging. A lookup or an append that queued behind a round trip on its way waits for that
// one first, so a lookup fails within about twice that time, or as soon as its caller's
// context ends. During a Sentinel failover calls fail the same way until the Sentinels have
// promoted a replica; the client then asks them for the new primary and reconnects there.
// Replication is asynchronous: what the primary acknowledged in its last moments may not have
// reached the replica (in practice a few milliseconds; see the README on min-replicas-to-write). Such failures wrap ErrUnavailable and, in the Runs and Limiter views, also
// runs.ErrUnavailable or ratelimit.ErrUnavailable, which the server turns into 503. The
// underlying go-redis client reconnects on its own once Redis is back. Errors never hold a run
// token, a token hash or key material.
package redisstore
