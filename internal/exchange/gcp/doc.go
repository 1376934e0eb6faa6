// Package gcp exchanges a broker ID token for a Google access token through workload identity
// federation, using Google's own client (golang.org/x/oauth2/google/externalaccount): an STS
// token exchange at <sts_endpoint>/v1/token, then generateAccessToken for the integration's
// service account at <iam_credentials_endpoint>.
//
// Timeouts: each of the two upstream calls, retries included, is bounded by the integration's
// timeout (exchange.Timeout); the whole exchange, minting the broker token included, is also
// bounded by twice that, since externalaccount takes one context for everything.
package gcp
