package exchange

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/runs"
)

// TestErrorTextWithoutAnswer: an upstream error with no status and no message reads
// "<provider> could not be reached", without a colon after the provider.
// Guards against: errors.go:Error() uses the colon form whenever Status is 0
func TestErrorTextWithoutAnswer(t *testing.T) {
	if got := (&UpstreamError{Provider: "azure"}).Error(); got != "azure could not be reached" {
		t.Errorf("Error() = %q, want %q", got, "azure could not be reached")
	}
}

// TestScrubBoundaries: values at the shortest length Scrub treats as secrets are redacted:
// a named secret value of 16 characters (also under "passwd"), an XML secret element of 16
// characters, a Vault recovery token (hvr.), and a JWT whose payload segment has 4 characters.
// Guards against: errors.go:secretValue needs 17 characters
// Guards against: errors.go:secretElement needs 17 characters
// Guards against: errors.go:vaultToken without recovery tokens (hvr.)
// Guards against: errors.go:secretValue without passwd
// Guards against: errors.go:jwtShape payload needs 5 characters
func TestScrubBoundaries(t *testing.T) {
	for _, tc := range []struct {
		name, in, leak string
	}{
		{"named value of 16", `client_secret=ABCDEFGHIJKLMNOP`, "ABCDEFGHIJKLMNOP"},
		{"XML element of 16", `<SecretAccessKey>ABCDEFGHIJKLMNOP</SecretAccessKey>`, "ABCDEFGHIJKLMNOP"},
		{"recovery token", `token hvr.AAAAAAAAAAAAAAAAAAAAAAAA was refused`, "hvr.AAAAAAAAAAAAAAAAAAAAAAAA"},
		{"passwd", `db_passwd: abcdefghijklmnopqrstuvwx`, "abcdefghijklmnopqrstuvwx"},
		{"short JWT payload", `assertion eyJhbGciOi.eyJz.c2lnbmF0dXJl refused`, "eyJz.c2lnbmF0dXJl"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Scrub(tc.in); strings.Contains(got, tc.leak) {
				t.Errorf("Scrub(%q) = %q, still holds %q", tc.in, got, tc.leak)
			}
		})
	}
}

// TestUsableNamesTheUpstream: an unusable answer's message names the upstream that gave it.
// Guards against: usable.go:refuse drops a.From from the message
func TestUsableNamesTheUpstream(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	err := Usable(Answer{Provider: Vault, From: "Vault at https://vault.example", Now: now})
	up, ok := err.(*UpstreamError)
	if !ok || up.Status != http.StatusOK || !strings.HasPrefix(up.Message, "Vault at https://vault.example answered ") {
		t.Fatalf("Usable = %v, want a 200 UpstreamError naming Vault at https://vault.example", err)
	}
}

// TestBodyCapIsOneMiB: the response body cap is exactly 1 MiB: 1 MiB is read, one byte more
// is refused with ErrResponseTooLarge.
// Guards against: httpclient.go:MaxResponseBytes raised to 2 MiB
func TestBodyCapIsOneMiB(t *testing.T) {
	for _, size := range []int{1 << 20, 1<<20 + 1} {
		data, err := readCapped(strings.NewReader(strings.Repeat("x", size)))
		if size > 1<<20 && err != ErrResponseTooLarge {
			t.Errorf("%d bytes: err = %v, want ErrResponseTooLarge", size, err)
		}
		if size <= 1<<20 && (err != nil || len(data) != size) {
			t.Errorf("%d bytes: read %d, %v", size, len(data), err)
		}
	}
}

// TestBackoffDefaultsAndDoubles: the first retry waits about 200ms by default (between half
// and all of it, jitter included), and each further retry doubles the backoff.
// Guards against: httpclient.go:default backoff 2s
// Guards against: httpclient.go:backoff not doubled per attempt
func TestBackoffDefaultsAndDoubles(t *testing.T) {
	rt := NewHTTPClient(ClientOptions{}).Transport.(*retryTransport)
	resp := &http.Response{Header: http.Header{}}
	for _, tc := range []struct {
		attempt int
		max     time.Duration
	}{{1, 200 * time.Millisecond}, {2, 400 * time.Millisecond}, {3, 800 * time.Millisecond}} {
		for range 50 {
			if d := rt.delay(tc.attempt, resp); d < tc.max/2 || d > tc.max {
				t.Fatalf("delay(%d) = %v, want within [%v, %v]", tc.attempt, d, tc.max/2, tc.max)
			}
		}
	}
}

// TestContentLengthOfReadBody: a response handed back has ContentLength set to the body
// read, even when the upstream sent it chunked.
// Guards against: httpclient.go:ContentLength not set from the read body
func TestContentLengthOfReadBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("hello"))
		w.(http.Flusher).Flush()
		_, _ = w.Write([]byte(" world"))
	}))
	defer srv.Close()
	resp, err := NewHTTPClient(ClientOptions{}).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.ContentLength != int64(len(body)) || len(body) != 11 {
		t.Errorf("ContentLength %d for a body of %d bytes", resp.ContentLength, len(body))
	}
}

// TestAttachmentToUnknownIntegrationIgnored: an attachment naming an integration that does
// not exist is ignored: indexing does not fail and the stack has nothing attached.
// Guards against: resolve.go:NewAttachments does not skip attachments of unknown integrations
func TestAttachmentToUnknownIntegrationIgnored(t *testing.T) {
	a := NewAttachments(nil, []config.EffectiveAttachment{{Attachment: config.Attachment{Stack: "vpc", Integration: "ghost", Read: true, Write: true}}})
	if _, err := a.ResolveScope(StackScope{Stack: "vpc", Scope: runs.Read}, "vault", ""); !errors.Is(err, ErrNotAttached) {
		t.Errorf("ResolveScope error %v, want ErrNotAttached", err)
	}
}
