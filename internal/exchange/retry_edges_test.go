package exchange

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestRetryAfterUpToFiveSeconds checks that a Retry-After of 0 to 5 seconds is waited out
// exactly, and that a longer, negative or malformed one falls back to the client's own backoff
// (half to all of the first backoff).
// Guards against: Retry-After ignored (branch dropped)
// Guards against: Retry-After bound `s <= 5` -> `s < 5`
// Guards against: Retry-After bound `s >= 0` -> `s > 0`
// Guards against: Retry-After bound `s >= 0` dropped (a negative delay)
func TestRetryAfterUpToFiveSeconds(t *testing.T) {
	const backoff = 100 * time.Millisecond
	rt := NewHTTPClient(ClientOptions{Backoff: backoff}).Transport.(*retryTransport)
	for _, tc := range []struct {
		header string
		want   time.Duration // 0 with own: the client's own backoff
		own    bool
	}{
		{header: "0", want: 0},
		{header: "1", want: time.Second},
		{header: "5", want: 5 * time.Second},
		{header: "6", own: true},
		{header: "-1", own: true},
		{header: "soon", own: true},
	} {
		resp := &http.Response{Header: http.Header{"Retry-After": {tc.header}}}
		got := rt.delay(1, resp)
		switch {
		case tc.own && (got < backoff/2 || got > backoff):
			t.Errorf("Retry-After %q: delay %v, want the backoff (%v to %v)",
				tc.header, got, backoff/2, backoff)
		case !tc.own && got != tc.want:
			t.Errorf("Retry-After %q: delay %v, want %v", tc.header, got, tc.want)
		}
	}
}

// TestUnreplayableErrorHidesURLLogin checks that the error for a retry whose body cannot be
// sent again names the URL without the password written into it.
// Guards against: req.URL.Redacted() -> req.URL.String() in the "cannot be replayed" error
func TestUnreplayableErrorHidesURLLogin(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	const password = "Pr0xyPassw0rd"
	target := strings.Replace(srv.URL, "http://", "http://ci:"+password+"@", 1)
	body := io.MultiReader(strings.NewReader("grant_type=token-exchange"))
	req, _ := http.NewRequest(http.MethodPost, target, body)
	resp, err := NewHTTPClient(ClientOptions{Backoff: time.Millisecond}).Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatal("no error for an unreplayable retry")
	}
	if strings.Contains(err.Error(), password) {
		t.Errorf("error %q holds the URL's password", err)
	}
}

// stubTransport answers every request with 200 and a body that fails with err once read.
type stubTransport struct {
	err error
}

func (p stubTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{},
		Body:    io.NopCloser(io.MultiReader(strings.NewReader("{"), failingReader{p.err})),
		Request: req}, nil
}

// failingReader fails every read with err.
type failingReader struct{ err error }

func (r failingReader) Read([]byte) (int, error) { return 0, r.err }

// TestBodyReadErrorWrapped checks that an error reading the upstream's body (a deadline
// passing mid-body) reaches the caller wrapped, so that callers can tell a timeout by
// errors.Is.
// Guards against: readCapped formats the read error with %v instead of %w
func TestBodyReadErrorWrapped(t *testing.T) {
	client := NewHTTPClient(ClientOptions{Base: stubTransport{err: context.DeadlineExceeded}})
	resp, err := client.Get("http://127.0.0.1:1/")
	if err == nil {
		resp.Body.Close()
		t.Fatal("no error for a body that could not be read")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v does not wrap context.DeadlineExceeded", err)
	}
}

// TestRetryResendsBodyOnNewConnection checks that a retried call sends its body again in
// full, also when the retry goes out on a new connection (no keep-alive), where net/http does
// not rewind the body by itself.
// Guards against: the retry reuses the consumed body instead of a fresh one from GetBody
func TestRetryResendsBodyOnNewConnection(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		n := hits.Add(1)
		if string(body) != "payload" {
			t.Errorf("attempt %d got body %q", n, body)
		}
		if n == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	client := NewHTTPClient(ClientOptions{Base: &http.Transport{DisableKeepAlives: true},
		Backoff: time.Millisecond})
	req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("payload"))
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || hits.Load() != 2 {
		t.Errorf("got %d after %d attempts, want 200 after 2", resp.StatusCode, hits.Load())
	}
}
