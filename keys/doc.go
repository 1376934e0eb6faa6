// Package keys holds broker's signing keys: the key model (a crypto.Signer plus its id and
// schedule), the backends that create keys and persist key sets (memory, file; redis lives in
// internal/redisstore, vault-transit in keys/vaulttransit), the rotation schedule as pure
// functions of (now, key metadata), and a Manager that applies the schedule on an injected clock.
//
// A key's KID is the RFC 7638 JWK thumbprint of its public key (see Thumbprint). The schedule
// (Decide, ForceRotate) saves a new key Policy.Lead before it signs: two RefreshIntervals for
// every replica to publish it, then Prepublish; a Manager also signs with a key only once it has
// published it itself for Prepublish. A key stays published Retain after it stops signing, plus
// Policy.Linger for the replicas that put the hand-over in force late or whose clocks differ;
// replicas sharing a Backend agree on every change because Backend.Save is a compare-and-swap on
// the set's Generation.
package keys
