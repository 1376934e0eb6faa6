// Package contract finds the external contract's files (../shared/contract beside the
// repository) for tests that check broker against them.
package contract
