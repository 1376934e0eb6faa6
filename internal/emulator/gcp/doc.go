// Package gcpemu is a strict emulator of the two Google endpoints of workload identity
// federation: Security Token Service's token exchange (POST /v1/token) and IAM Credentials'
// generateAccessToken (POST /v1/projects/-/serviceAccounts/<email>:generateAccessToken).
//
// One Emulator serves both paths from one http.Handler; mount it once, or under two servers
// (one as sts_endpoint, one as iam_credentials_endpoint), each with Only its own endpoint, as
// Google's two hosts serve one each. To serve it under a path prefix, wrap
// it in http.StripPrefix. Subject tokens are validated by oidctrust against the provider's
// issuer; federated and access tokens are opaque, sealed with a per-Emulator key, so the
// Emulator keeps no token table and a restart invalidates every token it issued.
//
// Both take their request bodies as Google's front end does: the token exchange form-encoded or
// as JSON, generateAccessToken as JSON; a JSON body naming a field its request does not have, or
// giving a string field another type, is refused with 400 before the request is read.
//
// Deviations from Google, all on the strict side or for simplicity: attribute mapping supports
// only assertion.<claim>; the attribute condition is a Go func; delegation chains are refused;
// unauthorized_client (attribute condition) is answered with 400, as RFC 6749 section 5.2 has
// it, since Google does not document the status.
package gcpemu
