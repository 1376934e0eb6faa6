package loadgen

import (
	"bytes"
	"fmt"
	"io"
)

// answer parses one HTTP/1.1 answer incrementally, as its bytes arrive in buf: each status or
// header line is parsed once, when its line break arrives, and the body is complete when
// Content-Length bytes follow the blank line. The status line and headers must fit in
// readBufferSize bytes; the buffer grows (and is kept) only for a body that does not fit.
type answer struct {
	// buf[:n] holds the bytes read so far.
	buf []byte
	n   int
	// line is where the line being read starts; head is the length of the status line and
	// headers with their blank line, 0 until the blank line has arrived.
	line, head int
	// status is the answer's status (0 until the status line has arrived); length is its
	// Content-Length (-1 until seen); keep is false when the connection closes after it.
	status, length int
	keep           bool
}

// reset readies a for the next answer, keeping its buffer.
func (a *answer) reset() {
	if a.buf == nil {
		a.buf = make([]byte, readBufferSize)
	}
	a.n, a.line, a.head, a.status, a.length, a.keep = 0, 0, 0, 0, -1, true
}

// space is where the next bytes read go: never empty.
func (a *answer) space() []byte {
	return a.buf[a.n:]
}

// body is the answer's body, once advance reported it complete.
func (a *answer) body() []byte { return a.buf[a.head : a.head+a.length] }

// advance takes k more bytes read into space and reports whether the answer is complete.
func (a *answer) advance(k int) (done bool, err error) {
	a.n += k
	for a.head == 0 {
		i := bytes.IndexByte(a.buf[a.line:a.n], '\n')
		if i < 0 {
			if a.n == len(a.buf) {
				return false, fmt.Errorf("%w: status line and headers longer than %d bytes", errAnswer, len(a.buf))
			}
			return false, nil
		}
		end := a.line + i + 1
		blank, err := a.parseLine(bytes.TrimRight(a.buf[a.line:end], "\r\n"))
		if err != nil {
			return false, err
		}
		if blank {
			a.head = end
		}
		a.line = end
	}
	total := a.head + a.length
	if total > len(a.buf) { // a body larger than the buffer: grow it once, keep it
		grown := make([]byte, total)
		copy(grown, a.buf[:a.n])
		a.buf = grown
	}
	switch {
	case a.n < total:
		return false, nil
	case a.n > total:
		return false, fmt.Errorf("%w: %d bytes after the answer's Content-Length of %d", errAnswer, a.n-total, a.length)
	}
	return true, nil
}

// parseLine parses the status line, a header line or the blank line that ends the headers,
// and reports whether line was that blank line.
func (a *answer) parseLine(line []byte) (blank bool, err error) {
	if a.status == 0 {
		return false, a.parseStatus(line)
	}
	if len(line) == 0 {
		if a.length < 0 {
			return false, fmt.Errorf("%w: status %d without a Content-Length", errAnswer, a.status)
		}
		return true, nil
	}
	return false, a.parseHeader(line)
}

// parseHeader parses one header line.
func (a *answer) parseHeader(line []byte) error {
	name, value, ok := bytes.Cut(line, []byte(":"))
	if !ok {
		return fmt.Errorf("%w: header line %.40q", errAnswer, line)
	}
	value = bytes.TrimSpace(value)
	switch {
	case bytes.EqualFold(name, []byte("Content-Length")):
		n, ok := parseLength(value)
		if !ok || (a.length >= 0 && n != a.length) {
			return fmt.Errorf("%w: Content-Length %.40q", errAnswer, value)
		}
		a.length = n
	case bytes.EqualFold(name, []byte("Connection")):
		if bytes.EqualFold(value, []byte("close")) {
			a.keep = false
		}
	case bytes.EqualFold(name, []byte("Transfer-Encoding")):
		return fmt.Errorf("%w: Transfer-Encoding %.40q (the driver needs a Content-Length)", errAnswer, value)
	}
	return nil
}

// parseStatus parses the status line: HTTP/1.1 or HTTP/1.0 (which closes), then three digits.
func (a *answer) parseStatus(line []byte) error {
	bad := func() error { return fmt.Errorf("%w: status line %.40q", errAnswer, line) }
	switch {
	case len(line) < 12 || (len(line) > 12 && line[12] != ' '):
		return bad()
	case bytes.HasPrefix(line, []byte("HTTP/1.1 ")):
	case bytes.HasPrefix(line, []byte("HTTP/1.0 ")):
		a.keep = false
	default:
		return bad()
	}
	status, ok := parseLength(line[9:12])
	if !ok || status < 100 {
		return bad()
	}
	a.status = status
	return nil
}

// parseLength parses a decimal length of at most maxMeasuredAnswer, without allocating.
func parseLength(b []byte) (int, bool) {
	if len(b) == 0 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
		if n > maxMeasuredAnswer {
			return 0, false
		}
	}
	return n, true
}

// cut is the error for a connection that ended (err) before the whole answer arrived.
func (a *answer) cut(err error) error {
	if err == nil {
		err = io.ErrUnexpectedEOF
	}
	switch {
	case a.head > 0:
		return fmt.Errorf("answer cut after %d of %d bytes: %w", a.n-a.head, a.length, err)
	case a.status > 0:
		return fmt.Errorf("read the headers: %w", err)
	}
	return fmt.Errorf("read the status line: %w", err)
}
