// Package vaulttransit is the vault-transit keys.Backend: every signing key is a version of a
// Vault Transit key, created and used inside Vault, so broker never reads, writes or holds a
// private key.
//
// # Keys
//
// Each algorithm chain of the rotation policy has its own Transit key: Config.Key (type rsa-2048
// for RS256, ecdsa-p256 for ES256) for Config.Alg, and "<Key>-rs256" or "<Key>-es256" for the
// other algorithm. A chain's first key is version 1 of a Transit key that Generate creates when
// it does not exist yet; every further key is a new version (POST <mount>/keys/<name>/rotate).
// Its public key comes from GET <mount>/keys/<name>, its KID is keys.Thumbprint of that public
// key, and its Signer asks Vault to sign with exactly that version: RS256 through
// <mount>/sign/<name>/sha2-256 with prehashed=true and signature_algorithm=pkcs1v15, ES256 with
// marshaling_algorithm=jws (asn1 for crypto.Signer.Sign). The Signer is a keys.ContextSigner,
// so a signature is bounded by the request that asks for it as well as by Config.Timeout.
//
// A Transit key whose private halves can leave Vault (exportable=true or
// allow_plaintext_backup=true, which Vault cannot turn off) is refused (ErrExportable) wherever
// broker reads it: adoption, Load, Generate and Ping fail, naming the key; and a Signer reads its
// key's settings again when they were read RecheckInterval ago or more, refusing to sign once
// either is on. The remedy is a new key name (Config.Key): Load then leaves the stored keys of
// the exportable Transit key, no longer configured, out of the set, which the keys manager takes
// as their revocation: a key of the new name signs at once, and the old versions leave the JWKS.
//
// # Key set
//
// The key set's metadata (kid, alg, schedule, Transit key name and version; never private
// material) lives in a MetaStore, saved by compare-and-swap so a rotation is decided once across
// replicas: in memory (one replica) or in Redis (redisstore's TransitMeta). A Transit version
// created by Generate but not saved (its replica lost the compare-and-swap, or failed before
// saving) is never published and never signs; it stays in Transit unused, since broker never
// deletes Transit versions (trimming old versions is left to the operator's Transit settings).
//
// With Config.Adopt (the memory MetaStore, whose set a restart loses), New adopts the versions
// Transit already holds when the stored set is empty, so that a restart keeps the keys relying
// parties trust instead of minting one that signs at once: every version v is taken as created
// at its Transit creation time and signing from then plus Prepublish (so it was published at
// least that long), retiring when its successor starts; versions whose successor started more
// than Retain ago are left out. Transit does not tell a version broker published from one
// rotated in Vault behind broker's back, which no JWKS served, and broker's own next rotation
// may follow such a version; so every version after the first one listed signs Prepublish plus
// Retain later than that, the one before it signing until then. The schedule depends on
// Transit's creation times alone, so every restart computes the same one.
//
// # Failures
//
// Every call to Vault is bounded by Config.Timeout (one that creates a key or key version, which
// no request waits on, by at least MinKeyTimeout) and every answer body is capped at
// MaxResponseBytes. A failure to reach Vault or to have it sign wraps keys.ErrUnavailable (the
// API answers 503 `unavailable`); the key set already loaded stays usable for publication, since
// public keys are cached once read.
//
// # Token
//
// The Vault token (VAULT_TOKEN) is checked with lookup-self by New and, when renewable, renewed
// by renew-self at half its TTL until Close. Config.Namespace is sent as X-Vault-Namespace on
// every request.
package vaulttransit
