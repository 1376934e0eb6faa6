package azure

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/exchange"
)

// editTokenAnswer rewrites the JSON of a successful token-endpoint answer with edit.
func editTokenAnswer(edit func(map[string]any)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token") {
				next.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			var body map[string]any
			if rec.Code == http.StatusOK && json.Unmarshal(rec.Body.Bytes(), &body) == nil {
				edit(body)
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(rec.Code)
			_ = json.NewEncoder(w).Encode(body)
		})
	}
}

// An Entra answer whose token has already expired fails the exchange.
func TestRefusesExpiredEntraToken(t *testing.T) {
	f := newFixture(t, editTokenAnswer(func(b map[string]any) { b["expires_in"] = -3600; b["ext_expires_in"] = -3600 }))
	req, _ := f.request(t, f.integration("az-read", readClient), readSubject)
	creds, err := f.x.Exchange(context.Background(), req)
	if err == nil {
		t.Fatalf("exchange handed back an Entra access token that had already expired: expiresAt=%s", creds.ExpiresAt.Format(time.RFC3339))
	}
	var ue *exchange.UpstreamError
	if !errors.As(err, &ue) || ue.Status != 200 || !strings.Contains(err.Error(), "expire") {
		t.Errorf("error %v, want an upstream error (status 200) about the expiry", err)
	}
}
