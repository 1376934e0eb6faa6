// Package oidctrust validates a federated JWT the way cloud identity federation does: it fetches
// the issuer's discovery document and JWKS, takes a JWT, which is a compact JWS (a JWS in the
// JSON serialization is malformed unless the policy takes it, as Vault's verifier does), checks
// the signature with an algorithm allow-list, the JSON types of the registered claims, the exact
// issuer, the audience, the expiry and not-before with small skew, then the caller's subject
// condition. Each failure is a distinct error so an emulator can answer with its cloud's real
// error.
package oidctrust
