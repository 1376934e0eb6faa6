package main

import (
	"fmt"
	"io"
	"os"
	"syscall"
)

// Caps on the files the CLI reads as input: a file above its cap is refused before it is read.
const (
	// maxSmallFileBytes bounds a JWKS or an audit state file, both a few KiB at most.
	maxSmallFileBytes = 1 << 20
)

// readInput reads the file at path, which must be a regular file (a FIFO or a device such as
// /dev/zero would block or never end) of at most limit bytes.
func readInput(path string, limit int64) ([]byte, error) {
	// O_NONBLOCK: opening a FIFO does not wait for a writer; it is refused below.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	info, err := f.Stat()
	switch {
	case err != nil:
		return nil, err
	case !info.Mode().IsRegular():
		return nil, fmt.Errorf("%s is not a regular file", path)
	case info.Size() > limit:
		return nil, fmt.Errorf("%s is %d bytes, more than the %d this command reads", path, info.Size(), limit)
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s grew past the %d bytes this command reads while it was read", path, limit)
	}
	return data, nil
}
