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

// TestResponseBodyCapBoundary: an upstream body of exactly MaxResponseBytes is read in full; one
// byte more is ErrResponseTooLarge.
// Guards against: internal/exchange/httpclient.go:127 `len(data) > MaxResponseBytes` -> `>=`
func TestResponseBodyCapBoundary(t *testing.T) {
	for _, tc := range []struct {
		size    int
		wantErr bool
	}{{MaxResponseBytes, false}, {MaxResponseBytes + 1, true}} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte(strings.Repeat("x", tc.size)))
		}))
		resp, err := NewHTTPClient(ClientOptions{}).Get(srv.URL)
		switch {
		case tc.wantErr && !errors.Is(err, ErrResponseTooLarge):
			t.Errorf("%d bytes: err = %v, want ErrResponseTooLarge", tc.size, err)
		case !tc.wantErr && err != nil:
			t.Errorf("%d bytes: err = %v, want the body", tc.size, err)
		case !tc.wantErr:
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if len(body) != tc.size {
				t.Errorf("%d bytes: read %d", tc.size, len(body))
			}
		}
		srv.Close()
	}
}

// TestLongRetryAfterIgnored: a Retry-After longer than 5s is not waited out (the exchange would sit
// idle until its timeout, here 10 s, and fail); the client backs off on its own schedule instead
// and the retry succeeds.
// Guards against: internal/exchange/httpclient.go:104 drop `s <= 5` from the Retry-After bound
func TestLongRetryAfterIgnored(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if hits.Add(1) == 1 {
			w.Header().Set("Retry-After", "30")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	resp, err := NewHTTPClient(ClientOptions{Backoff: time.Millisecond}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || hits.Load() != 2 {
		t.Errorf("got %d after %d attempts; want 200 on the 2nd attempt, before the answer's 30 s", resp.StatusCode, hits.Load())
	}
}
