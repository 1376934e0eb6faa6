// Package exchange is the small interface behind which each cloud's credential exchange lives
// (subpackages aws, gcp, azure, vault), plus what they share: the upstream-error type the API
// turns into 502, secret scrubbing, and an HTTP client that bounds, caps and retries upstream
// calls only on throttling and 5xx.
package exchange
