// Package awsemu is a strict emulator of the AWS Security Token Service Query API
// (https://sts.amazonaws.com, Version 2011-06-15), enough of it for broker's exchanges:
//
//   - AssumeRoleWithWebIdentity, unsigned as AWS accepts it: the role must exist, the token must
//     come from the OIDC provider registered for the role (issuer, client-ID list), verify against
//     the provider's JWKS with an allowed algorithm, be unexpired, and its sub must satisfy the
//     role's trust condition. The https://aws.amazon.com/tags claim becomes session tags, and
//     the https://aws.amazon.com/source_identity claim the session's source identity.
//   - AssumeRole, signed with Signature Version 4: the signature (lower-case hex, compared as
//     sent) is verified for real against the configured access keys, which carry no session
//     token; the caller must be a trusted principal of the role and present the role's
//     ExternalId exactly.
//   - GetCallerIdentity, signed with Signature Version 4 by temporary credentials the emulator
//     issued (with their session token): it names the assumed-role session they belong to;
//     unknown credentials get InvalidClientTokenId and expired ones ExpiredToken.
//
// Requests are POSTed form-encoded to "/" (as the AWS SDKs send them) or sent as a GET query.
// Answers use STS's XML success and ErrorResponse shapes with the HTTP statuses AWS documents,
// so the real SDK parses them. Credentials handed out are random and good for nothing.
//
// Tests observe the emulator through Calls and inject upstream failures with FailNext.
package awsemu
