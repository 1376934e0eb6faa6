package auditsink

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/brokerhq/broker/internal/audit"
)

// File appends one event per line (its JSON, as the API returns it) to a regular file, created
// with mode 0600. Each delivery opens the file, writes, syncs and closes it, so a log rotation
// that renames the file is followed at the next delivery. A line torn by a crash mid-write is cut
// off before the next write, so every line of the file is a whole event.
//
// A delivery returns by its context's deadline even when the file system hangs (a hard NFS
// mount, a full FUSE daemon): the write goes on in the background, and the next delivery waits
// for it, within its own deadline, rather than write beside it. A path that is not a regular
// file (a FIFO, a device, a socket) is refused, as nothing reading one can be waited on.
type File struct {
	path string
	// busy holds a token while a write runs, so writes never interleave.
	busy chan struct{}
	// open opens path for appending; tests replace it.
	open func(path string) (*os.File, error)
}

// ErrNotRegular is returned for a file sink path that names something other than a regular file.
var ErrNotRegular = errors.New("not a regular file: a file sink appends to a regular file only")

// NewFile returns a File appending to path, after checking that path is, or can be created as, a
// regular file open for appending.
func NewFile(path string) (*File, error) {
	f := &File{path: path, busy: make(chan struct{}, 1), open: openAppend}
	fh, err := f.open(path)
	if err != nil {
		return nil, err
	}
	if err := fh.Close(); err != nil {
		return nil, err
	}
	return f, nil
}

// openAppend opens path for appending without ever blocking on it (O_NONBLOCK, which regular
// files ignore) and refuses what is not a regular file, a symbolic link included (O_NOFOLLOW):
// the sink cuts a torn last line before it appends, which must only ever be its own.
func openAppend(path string) (*os.File, error) {
	fh, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND|syscall.O_NONBLOCK|syscall.O_NOFOLLOW, 0o600)
	if errors.Is(err, syscall.ELOOP) {
		return nil, fmt.Errorf("%s is a symbolic link: %w", path, ErrNotRegular)
	}
	if err != nil {
		return nil, err
	}
	info, err := fh.Stat()
	if err != nil {
		_ = fh.Close()
		return nil, err
	}
	if !info.Mode().IsRegular() {
		_ = fh.Close()
		return nil, fmt.Errorf("%s: %w", path, ErrNotRegular)
	}
	return fh, nil
}

// Deliver implements Sink.
func (f *File) Deliver(ctx context.Context, events []audit.Event) error {
	var buf bytes.Buffer
	for _, e := range events {
		line, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("encode event %s: %w", e.ID, err)
		}
		buf.Write(line)
		buf.WriteByte('\n')
	}
	select {
	case f.busy <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("the previous write to the file has not returned: %w", ctx.Err())
	}
	done := make(chan error, 1)
	go func() {
		defer func() { <-f.busy }()
		done <- f.write(buf.Bytes())
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		// A stop, not the deadline: the write under way is most often about to return, and one
		// reported as failed is appended again after a restart, a duplicate line.
		t := time.NewTimer(stopGrace)
		defer t.Stop()
		select {
		case err := <-done:
			return err
		case <-t.C:
		}
	}
	return fmt.Errorf("the write to the file has not returned: %w", ctx.Err())
}

// stopGrace is how long a delivery stopped mid-write still waits for the write to return.
const stopGrace = time.Second

// write appends data to the file as one synced write, after cutting a torn last line.
func (f *File) write(data []byte) error {
	fh, err := f.open(f.path)
	if err != nil {
		return err
	}
	if err := cutTornLine(fh); err != nil {
		_ = fh.Close()
		return err
	}
	if _, err := fh.Write(data); err != nil {
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
