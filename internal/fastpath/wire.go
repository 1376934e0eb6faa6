package fastpath

import (
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// AppendStatusLine appends the HTTP/1.1 status line of status to dst, as net/http writes it.
func AppendStatusLine(dst []byte, status int) []byte {
	switch status {
	case http.StatusOK:
		return append(dst, "HTTP/1.1 200 OK\r\n"...)
	case http.StatusNotModified:
		return append(dst, "HTTP/1.1 304 Not Modified\r\n"...)
	}
	dst = append(dst, "HTTP/1.1 "...)
	dst = strconv.AppendInt(dst, int64(status), 10)
	dst = append(dst, ' ')
	if text := http.StatusText(status); text != "" {
		dst = append(dst, text...)
	} else {
		// A code without a reason phrase of its own is named by its number, as net/http does.
		dst = append(dst, "status code "...)
		dst = strconv.AppendInt(dst, int64(status), 10)
	}
	return append(dst, "\r\n"...)
}

// dateLine is the Date header line of one second.
type dateLine struct {
	unix int64
	line []byte
}

// date is the latest dateLine: formatted once a second, not once an answer.
var date atomic.Pointer[dateLine]

// AppendDate appends the Date header line of now to dst, in net/http's format.
func AppendDate(dst []byte, now time.Time) []byte {
	sec := now.Unix()
	d := date.Load()
	if d == nil || d.unix != sec {
		line := append([]byte("Date: "), now.UTC().AppendFormat(nil, http.TimeFormat)...)
		d = &dateLine{unix: sec, line: append(line, "\r\n"...)}
		date.Store(d)
	}
	return append(dst, d.line...)
}
