// Package keystest holds the contract every keys.Backend must meet, as a test suite to run
// against each implementation, and helpers for tests that handle keys.
package keystest
