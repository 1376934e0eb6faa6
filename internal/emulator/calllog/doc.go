// Package calllog holds the bookkeeping the emulators share for tests: a log of the calls an
// emulator answered (Log) and failures injected into its next requests (Faults). Both are safe
// for concurrent use and ready to use as zero values.
package calllog
