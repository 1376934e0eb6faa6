package vault

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/exchange"
)

// TestExchangeForeignAnswer: an answer that is not Vault's is named by who answered what (the
// address and the status), never by how its body failed to decode as a login.
func TestExchangeForeignAnswer(t *testing.T) {
	body := func(status int, text string) func(http.ResponseWriter, *http.Request, int) {
		return func(w http.ResponseWriter, _ *http.Request, _ int) {
			w.WriteHeader(status)
			_, _ = w.Write([]byte(text))
		}
	}
	tests := []struct {
		name       string
		answer     func(http.ResponseWriter, *http.Request, int)
		wantStatus int
		wantMsg    string
	}{
		{"404 page", body(http.StatusNotFound, "404 page not found\n"), http.StatusNotFound, "answered 404, not with Vault's JSON"},
		{"404 JSON number", body(http.StatusNotFound, "404"), http.StatusNotFound, "answered 404, not with Vault's JSON"},
		{"404 empty", body(http.StatusNotFound, ""), http.StatusNotFound, "answered 404, not with Vault's JSON"},
		{"303 see other", body(http.StatusSeeOther, ""), http.StatusSeeOther, "answered 303, not with Vault's JSON"},
		{"401 page", body(http.StatusUnauthorized, "<html>go away</html>"), http.StatusUnauthorized, "answered 401, not with Vault's JSON: <html>go away</html>"},
		{"200 page", body(http.StatusOK, "<html>welcome</html>"), http.StatusOK, "answered 200 with a body that is not Vault's JSON"},
		{"200 JSON number", body(http.StatusOK, "200"), http.StatusOK, "answered 200 with a body that is not Vault's JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFakeVault(t, tt.answer)
			_, err := New(Options{HTTPClient: fastClient()}).Exchange(context.Background(), exchange.Request{
				Integration: vaultIntegration(fake.URL, nil), Tokens: &tokens{token: testJWT},
			})
			var up *exchange.UpstreamError
			if !errors.As(err, &up) {
				t.Fatalf("error = %v (%T), want *exchange.UpstreamError", err, err)
			}
			want := "Vault at " + fake.URL + " " + tt.wantMsg
			if up.Provider != exchange.Vault || up.Status != tt.wantStatus || !strings.HasPrefix(up.Message, want) {
				t.Errorf("UpstreamError = %+v, want status %d and message %q", up, tt.wantStatus, want)
			}
			if strings.Contains(err.Error(), "unmarshal") || strings.Contains(err.Error(), "invalid character") {
				t.Errorf("error names a decode failure, not the cause: %v", err)
			}
		})
	}
}
