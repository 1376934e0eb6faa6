package fastpath

import (
	"net/http"
	"strconv"
	"testing"
	"time"
)

// TestAppendStatusLineMatchesNetHTTP: every status line carries net/http's reason phrase.
// Guards against: wire.go:21 status text dropped for statuses other than 200 and 304
func TestAppendStatusLineMatchesNetHTTP(t *testing.T) {
	for _, s := range []int{200, 304, 400, 404, 405, 429, 500, 503} {
		want := "HTTP/1.1 " + strconv.Itoa(s) + " " + http.StatusText(s) + "\r\n"
		if got := string(AppendStatusLine(nil, s)); got != want {
			t.Errorf("AppendStatusLine(%d) = %q, want %q", s, got, want)
		}
	}
}

// TestAppendDateIsCurrentGMT: the Date line is the given instant in GMT, whatever its zone,
// and moves on with the clock instead of repeating a cached second.
// Guards against: wire.go:38 cache reused whatever the second (stale Date forever)
// Guards against: wire.go:39 now.UTC() dropped (local time labelled GMT)
func TestAppendDateIsCurrentGMT(t *testing.T) {
	t1 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("X", 2*3600))
	for _, tm := range []time.Time{t1, t1.Add(2 * time.Second), t1.Add(time.Hour)} {
		want := "Date: " + tm.UTC().Format(http.TimeFormat) + "\r\n"
		if got := string(AppendDate(nil, tm)); got != want {
			t.Errorf("AppendDate(%v) = %q, want %q", tm, got, want)
		}
	}
}
