// Package runs models infrastructure runs: their run types, the forward-only phase machine and
// the read/write scope each phase carries, and the Store that keeps runs and run-token hashes.
package runs
