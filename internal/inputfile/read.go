package inputfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// ErrNotRegular is wrapped by the refusal of a file that is not a regular file.
var ErrNotRegular = errors.New("not a regular file")

// Rule is what a file must be for ReadWith to return its bytes, beyond being a regular file.
type Rule struct {
	// Limit is the most bytes the file may have.
	Limit int64
	// What names the kind of file in the refusal of one too large ("a configuration file");
	// empty names it "it".
	What string
	// Check, when set, judges the opened file's path and information after the regular-file
	// check and before the size check; its error is returned as it is.
	Check func(path string, info fs.FileInfo) error
}

// Read reads the file at path, which must be a regular file of at most limit bytes. It is
// ReadWith under a Rule of that limit alone.
func Read(path string, limit int64) ([]byte, error) {
	return ReadWith(path, Rule{Limit: limit})
}

// ReadWith reads the file at path under rule. It opens the file without blocking, so that a
// FIFO is refused at once rather than waited on for a writer, and checks the opened file, so
// that a file swapped in between is still checked. Bytes read from a file refused for its size
// are zeroed, as they may be key material. The file is closed before ReadWith returns.
func ReadWith(path string, rule Rule) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is %w", path, ErrNotRegular)
	}
	if rule.Check != nil {
		if err := rule.Check(path, info); err != nil {
			return nil, err
		}
	}
	what := rule.What
	if what == "" {
		what = "it"
	}
	if info.Size() > rule.Limit {
		return nil, fmt.Errorf("%s is %d bytes, more than the %d %s may have",
			path, info.Size(), rule.Limit, what)
	}
	data, err := io.ReadAll(io.LimitReader(f, rule.Limit+1))
	if err != nil {
		clear(data)
		return nil, err
	}
	if int64(len(data)) > rule.Limit {
		clear(data)
		return nil, fmt.Errorf("%s grew past the %d bytes %s may have while it was read",
			path, rule.Limit, what)
	}
	return data, nil
}
