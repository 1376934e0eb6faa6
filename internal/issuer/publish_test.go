package issuer

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/brokerhq/broker/keys"
)

// noKeys is a KeySource before its first key: no snapshot.
type noKeys struct{}

func (noKeys) Snapshot() *keys.Snapshot { return nil }

func TestWireDeclinesWhatServeAnswersWithAnError(t *testing.T) {
	pub, err := NewPublisher(PublisherConfig{Issuer: "https://broker.example.com/tenant", Keys: noKeys{}})
	if err != nil {
		t.Fatal(err)
	}
	routes := pub.Routes()
	for _, path := range []string{JWKSPath, DiscoveryPath, "/tenant" + JWKSPath, "/tenant" + DiscoveryPath} {
		d, ok := routes[path]
		if !ok {
			t.Fatalf("no route %s", path)
		}
		if _, ok := d.Wire(""); ok {
			t.Errorf("%s: Wire answered without keys", path)
		}
		rec := httptest.NewRecorder()
		if status := d.Serve(rec, httptest.NewRequest("GET", path, nil)); status != http.StatusServiceUnavailable || rec.Code != status {
			t.Errorf("%s: Serve answered %d (returned %d), want 503", path, rec.Code, status)
		}
	}
}
