package auditsink

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/brokerhq/broker/internal/audit"
)

// File appends one event per line (its JSON, as the API returns it) to a file, created with
// mode 0600. Each delivery opens the file, writes, syncs and closes it, so a log rotation that
// renames the file is followed at the next delivery. A line torn by a crash mid-write is cut off
// before the next write, so every line of the file is a whole event.
type File struct {
	path string
}

// NewFile returns a File appending to path, after checking that the file can be opened for
// appending (and creating it if needed).
func NewFile(path string) (*File, error) {
	f, err := openAppend(path)
	if err != nil {
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	return &File{path: path}, nil
}

func openAppend(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
}

// Deliver implements Sink.
func (f *File) Deliver(_ context.Context, events []audit.Event) error {
	var buf bytes.Buffer
	for _, e := range events {
		line, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("encode event %s: %w", e.ID, err)
		}
		buf.Write(line)
		buf.WriteByte('\n')
	}
	fh, err := openAppend(f.path)
	if err != nil {
		return err
	}
	if err := cutTornLine(fh); err != nil {
		_ = fh.Close()
		return err
	}
	if _, err := fh.Write(buf.Bytes()); err != nil {
		_ = fh.Close()
		return err
	}
	if err := fh.Sync(); err != nil {
		_ = fh.Close()
		return err
	}
	return fh.Close()
}

// cutTornLine truncates fh after its last newline when its last line is not whole.
func cutTornLine(fh *os.File) error {
	info, err := fh.Stat()
	if err != nil {
		return err
	}
	end := info.Size()
	if end == 0 {
		return nil
	}
	last := make([]byte, 1)
	if _, err := fh.ReadAt(last, end-1); err != nil {
		return err
	}
	if last[0] == '\n' {
		return nil
	}
	chunk := make([]byte, 4096)
	for end > 0 {
		start := max(0, end-int64(len(chunk)))
		n, err := fh.ReadAt(chunk[:end-start], start)
		if err != nil && n < int(end-start) {
			return err
		}
		if i := bytes.LastIndexByte(chunk[:n], '\n'); i >= 0 {
			return fh.Truncate(start + int64(i) + 1)
		}
		end = start
	}
	return fh.Truncate(0)
}
