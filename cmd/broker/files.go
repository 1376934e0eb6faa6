package main

import "github.com/brokerhq/broker/internal/inputfile"

// Caps on the files the CLI reads as input: a file above its cap is refused before it is read.
const (
	// maxSmallFileBytes bounds a JWKS or an audit state file, both a few KiB at most.
	maxSmallFileBytes = 1 << 20
)

// readInput reads the file at path under inputfile's rule: a regular file of at most limit
// bytes.
func readInput(path string, limit int64) ([]byte, error) {
	return inputfile.Read(path, limit)
}
