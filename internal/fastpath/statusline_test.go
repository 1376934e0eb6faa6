package fastpath

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestAppendStatusLineUnknownStatusAsNetHTTP: a status with no reason phrase of its own
// gets the status line net/http writes for it ("HTTP/1.1 599 status code 599"), as
// AppendStatusLine promises, not a line with an empty reason phrase.
// Guards against: AppendStatusLine writing an empty reason phrase for a code without one
func TestAppendStatusLineUnknownStatusAsNetHTTP(t *testing.T) {
	for _, status := range []int{200, 304, 299, 599} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(status)
		}))
		want := rawStatusLine(t, srv.URL)
		srv.Close()
		if got := string(AppendStatusLine(nil, status)); got != want {
			t.Errorf("AppendStatusLine(%d) = %q, net/http writes %q", status, got, want)
		}
	}
}

// rawStatusLine returns the raw status line, with its CRLF, that the server at url answers.
func rawStatusLine(t *testing.T, url string) string {
	t.Helper()
	c := dialRaw(t, strings.TrimPrefix(url, "http://"), "GET / HTTP/1.1\r\nHost: h\r\n\r\n")
	defer c.Close()
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	return line
}
