// Package aws exchanges a run for temporary AWS credentials through STS (contract section 6):
//
//   - mode web-identity: a fresh broker ID token (audience sts.amazonaws.com unless the
//     integration says otherwise) is sent, unsigned, to AssumeRoleWithWebIdentity;
//   - mode assume-role: broker's own AWS credentials call AssumeRole with the ExternalId
//     "<issuer host>@<integration>@<stack>@<read|write>", so a role can trust one stack at one
//     scope only. No broker token is minted.
//
// Both calls go through aws-sdk-go-v2 with its own retries turned off: the shared upstream
// client of package exchange retries 5xx and throttling, and every call is bounded by the
// integration's timeout. STS refusals become *exchange.UpstreamError carrying STS's code and
// message; the token is never part of an error or a log line.
package aws
