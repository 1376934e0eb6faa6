package azure

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/exchange"
)

// logBuffer collects log output from several goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *logBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// TestUndecodableAnswerNotLogged: a 200 answer that carries an access token but cannot be decoded
// (an expires_in that is not a number) fails the exchange, and the token reaches neither the error
// nor the log, at debug level too. Microsoft's client quotes such an answer after "raw message
// was": that part is cut, so a token shaped like nothing Scrub recognises stays out too.
// Guards against: internal/exchange/azure/errors.go causeText no longer cutting at "raw message
// was"
func TestUndecodableAnswerNotLogged(t *testing.T) {
	const secret = "entra-opaque-access-token-SECRET-0123456789"
	const unshaped = "opaque*access*token*SECRET*0123456789"
	for name, tc := range map[string]struct{ secret, body string }{
		"string expires_in": {secret, `{"token_type":"Bearer","access_token":"` + secret + `","expires_in":"soon"}`},
		"object expires_in": {secret, `{"token_type":"Bearer","access_token":"` + secret + `","expires_in":{}}`},
		"bad token_type":    {secret, `{"token_type":5,"access_token":"` + secret + `","expires_in":3600}`},
		"token Scrub does not recognise": {unshaped,
			`{"token_type":"Bearer","access_token":"` + unshaped + `","expires_in":"soon"}`},
	} {
		secret, body := tc.secret, tc.body
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, func(next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if !strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token") {
						next.ServeHTTP(w, r)
						return
					}
					w.Header().Set("Content-Type", "application/json")
					_, _ = w.Write([]byte(body))
				})
			})
			var logs logBuffer
			log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			x := exchange.Observe(New(Options{HTTPClient: f.httpClient(f.srv.Client().Transport), Logger: log}),
				exchange.ObserveConfig{Provider: exchange.Azure, Logger: log})
			in := f.integration("az-read", readClient)
			in.Timeout = 2 * time.Second
			req, _ := f.request(t, in, readSubject)
			_, err := x.Exchange(context.Background(), req)
			if err == nil {
				t.Fatal("an undecodable answer was taken")
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("access token in the error: %v", err)
			}
			if strings.Contains(logs.String(), secret) {
				t.Errorf("the access token of an unusable answer is in the log:\n%s", logs.String())
			}
		})
	}
}
