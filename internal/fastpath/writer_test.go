package fastpath

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

// TestAnswerWriterFramesAsNetHTTP: what handlers do to an answerWriter, and the answer it
// writes (Date blanked).
func TestAnswerWriterFramesAsNetHTTP(t *testing.T) {
	tests := []struct {
		name      string
		handle    func(w http.ResponseWriter)
		closing   bool
		want      string
		wantClose bool
	}{
		{"nothing written", func(http.ResponseWriter) {},
			false, "HTTP/1.1 200 OK\r\nDate: *\r\nContent-Length: 0\r\n\r\n", false},
		{"the first status counts", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusTeapot)
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte("{}"))
		}, false, "HTTP/1.1 418 I'm a teapot\r\nDate: *\r\nContent-Length: 2\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{}", false},
		{"an informational status is dropped", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusEarlyHints)
			w.WriteHeader(http.StatusCreated)
		}, false, "HTTP/1.1 201 Created\r\nDate: *\r\nContent-Length: 0\r\n\r\n", false},
		{"the header as it was at the status", func(w http.ResponseWriter) {
			w.Header().Set("X-A", "1")
			w.WriteHeader(http.StatusOK)
			w.Header().Set("X-B", "2")
			_, _ = w.Write([]byte("x"))
		}, false, "HTTP/1.1 200 OK\r\nX-A: 1\r\nDate: *\r\nContent-Length: 1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nx", false},
		{"the handler's own framing is replaced", func(w http.ResponseWriter) {
			w.Header().Set("Content-Length", "99")
			w.Header().Set("Transfer-Encoding", "chunked")
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte("{}"))
		}, false, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nDate: *\r\nContent-Length: 2\r\n\r\n{}", false},
		{"the handler's Date is kept", func(w http.ResponseWriter) {
			w.Header().Set("Date", "then")
		}, false, "HTTP/1.1 200 OK\r\nDate: *\r\nContent-Length: 0\r\n\r\n", false}, // one Date, the handler's
		{"no body for 204", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusNoContent)
			if _, err := w.Write([]byte("x")); !errors.Is(err, http.ErrBodyNotAllowed) {
				panic("a body was taken for 204")
			}
		}, false, "HTTP/1.1 204 No Content\r\nDate: *\r\n\r\n", false},
		{"closing", func(w http.ResponseWriter) {
			w.Header().Set("Connection", "keep-alive")
		}, true, "HTTP/1.1 200 OK\r\nDate: *\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", true},
		{"the handler closes", func(w http.ResponseWriter) {
			w.Header().Set("Connection", "Keep-Alive, Close")
		}, false, "HTTP/1.1 200 OK\r\nDate: *\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", true},
		{"the handler's other Connection", func(w http.ResponseWriter) {
			w.Header().Set("Connection", "keep-alive")
		}, false, "HTTP/1.1 200 OK\r\nDate: *\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n", false},
		{"newlines in values and invalid names", func(w http.ResponseWriter) {
			w.Header()["Bad Name"] = []string{"x"}
			w.Header().Set("X-V", "a\r\n\r\nb")
		}, false, "HTTP/1.1 200 OK\r\nX-V: a    b\r\nDate: *\r\nContent-Length: 0\r\n\r\n", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := &answerWriter{header: http.Header{}}
			tc.handle(w)
			out, closes := w.finish(tc.closing)
			if got := dateHeader.ReplaceAllString(string(out), "Date: *\r\n"); got != tc.want || closes != tc.wantClose {
				t.Errorf("answer %q, closes %v\nwant   %q, closes %v", got, closes, tc.want, tc.wantClose)
			}
		})
	}
}

// TestAnswerWriterRefusesAnInvalidStatus: as net/http's, a status outside 100–999 panics.
func TestAnswerWriterRefusesAnInvalidStatus(t *testing.T) {
	for _, code := range []int{0, 99, 1000} {
		func() {
			defer func() {
				if v := recover(); v == nil || !strings.Contains(v.(string), "invalid WriteHeader code") {
					t.Errorf("WriteHeader(%d) recovered %v", code, v)
				}
			}()
			(&answerWriter{header: http.Header{}}).WriteHeader(code)
		}()
	}
}
