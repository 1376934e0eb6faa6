// Package vaultemu is a strict emulator of the Vault endpoints broker's Vault exchange and its
// users touch: the JWT auth method's login and the token store's lookup-self and revoke-self.
//
//   - POST (or PUT) /v1/auth/<mount>/login with {"role","jwt"}: the mount and the role must
//     exist; the JWT must come from the mount's bound issuer, verify against the issuer's JWKS
//     with an allowed algorithm, be valid in time with Vault's default clock-skew leeway (60s),
//     carry an aud among the role's bound_audiences, the role's user_claim, and every bound
//     claim with one of its allowed values (exact match). The answer is Vault's
//     {"auth":{...}} document with a random client token. As in Vault, the JWT may be a JWS in
//     either serialization, role and jwt take a JSON number (its text) or a boolean ("1", "0")
//     for a string, role names are lower-cased (so case-insensitive, but without Unicode
//     folding), the registered claims are read as go-jose's jwt.Claims reads them (a key in
//     another case, such as "Sub" or "EXP", stands for the claim), an empty user claim is
//     Vault's 500 "missing name in alias", and other parameters are ignored with a warning.
//   - GET /v1/auth/token/lookup-self with X-Vault-Token (or an Authorization bearer): the token
//     must be one this emulator issued and still be alive; the answer is Vault's {"data":{...}}
//     document.
//   - POST (or PUT) /v1/auth/token/revoke-self with the token as for lookup-self: the token is
//     revoked, answered 204; the default policy gives every token this update.
//
// Any other route, a login at a mount that is not enabled among them, and lookup-self by another
// method (which asks for another capability than the default policy's read) are refused as Vault
// refuses a caller without a policy for them: 403 "permission denied", in Vault's one-error form
// for a live token, and with "invalid token" beside it when the request carries a token Vault
// does not know. As in Vault, a PATCH is first refused unless its body is a JSON merge patch (400
// or 415).
//
// Refusals use Vault's shape {"errors":["..."]} with Vault's statuses and messages (400 for a login
// Vault refuses, 403 "permission denied" and "invalid token" for a token it does not know); a test
// holds them against a real Vault dev server. Where they differ, the emulator is the stricter: it
// refuses a token without exp or whose exp is null (Vault 1.21.0 takes both), words a non-string
// iss as an untrusted issuer, and refuses a key in another case that gives a registered claim
// other than iss a value its exact key does not (Vault checks that value). Tokens grant nothing
// beyond lookup-self and revoke-self.
package vaultemu
