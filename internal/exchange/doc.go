// Package exchange is the small interface behind which each cloud's credential exchange lives
// (subpackages aws, gcp, azure, vault), plus what they share: the upstream-error type the API
// turns into 502, secret scrubbing, an HTTP client that bounds, caps and retries upstream calls
// only on throttling and 5xx, and Observe, the one decorator that times, counts, logs and
// classifies (Classify: success, denied, error) every exchange. Subpackage exchangetest is the
// contract every Exchanger passes. Provider facts (names, default audiences, env names) live in
// package provider.
package exchange
