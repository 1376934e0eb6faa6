package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/api"
	"github.com/brokerhq/broker/keys"
)

type reachable struct{}

func (reachable) Ping(context.Context) error { return nil }

// snapshotAt is a key source whose one snapshot was computed at at.
type snapshotAt struct{ at time.Time }

func (s snapshotAt) Snapshot() *keys.Snapshot {
	k, err := keys.Generate(keys.ES256, s.at)
	if err != nil {
		panic(err)
	}
	return &keys.Snapshot{Signing: k, At: s.at}
}

// TestReadyWhileTheKeysAreFresh: /readyz answers 503 once the key set has not been refreshed
// for KeysStaleAfter: such a replica may serve a JWKS without a key the others sign with.
func TestReadyWhileTheKeysAreFresh(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		age  time.Duration
		want int
	}{
		{"refreshed just now", 0, http.StatusOK},
		{"refreshed within the bound", 89 * time.Second, http.StatusOK},
		{"not refreshed for longer", 91 * time.Second, http.StatusServiceUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rt := api.NewRouter()
			api.NewHealth(api.HealthConfig{Store: reachable{}, Keys: snapshotAt{now.Add(-tc.age)}, KeysStaleAfter: 90 * time.Second,
				Now: func() time.Time { return now }}).Mount(rt)
			w := httptest.NewRecorder()
			rt.ServeHTTP(w, httptest.NewRequest("GET", "/readyz", nil))
			if w.Code != tc.want {
				t.Errorf("/readyz with keys refreshed %v ago: %d %s, want %d", tc.age, w.Code, w.Body, tc.want)
			}
		})
	}
}
