package inputfile

import (
	"fmt"
	"io"
	"os"
	"syscall"
)

// Read reads the file at path, which must be a regular file of at most limit bytes. It opens
// the file without blocking, so that a FIFO is refused at once rather than waited on for a
// writer, and checks the opened file, so that a file swapped in between is still checked. The
// file is closed before Read returns.
func Read(path string, limit int64) ([]byte, error) {
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
		return nil, fmt.Errorf("%s is %d bytes, more than the %d it may have", path, info.Size(), limit)
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s grew past the %d bytes it may have while it was read", path, limit)
	}
	return data, nil
}
