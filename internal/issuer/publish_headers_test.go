package issuer

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/brokerhq/broker/keys"
)

// TestIfNoneMatchFirstLine pins that an ETag named in the first of two If-None-Match lines
// answers 304.
// Guards against: last line read instead of the first in publish.go:serve
func TestIfNoneMatchFirstLine(t *testing.T) {
	es, _, _ := publishKeys(t)
	pub, err := NewPublisher(PublisherConfig{Issuer: "https://broker.example.com", Keys: snapKeys{&keys.Snapshot{Version: "v1", Signing: es, Signers: []keys.Key{es}, Published: []keys.Key{es}}}, MaxAge: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	d := pub.Routes()[JWKSPath]
	etag := serveDoc(t, d, docRequest(http.MethodGet, JWKSPath, "")).Header().Get("Etag")
	req := docRequest(http.MethodGet, JWKSPath, etag)
	req.Header.Add("If-None-Match", `"other"`)
	if rec := serveDoc(t, d, req); rec.Code != http.StatusNotModified {
		t.Errorf("status %d, want 304", rec.Code)
	}
}

// TestIfNoneMatchLaterLine pins that If-None-Match lines form one list: an ETag named only in
// the second of two lines answers 304 as it does in one comma-separated line.
func TestIfNoneMatchLaterLine(t *testing.T) {
	es, _, _ := publishKeys(t)
	pub, err := NewPublisher(PublisherConfig{Issuer: "https://broker.example.com", Keys: snapKeys{&keys.Snapshot{Version: "v1", Signing: es, Signers: []keys.Key{es}, Published: []keys.Key{es}}}, MaxAge: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	d := pub.Routes()[JWKSPath]
	etag := serveDoc(t, d, docRequest(http.MethodGet, JWKSPath, "")).Header().Get("Etag")
	req := docRequest(http.MethodGet, JWKSPath, `"other"`)
	req.Header.Add("If-None-Match", etag)
	if rec := serveDoc(t, d, req); rec.Code != http.StatusNotModified {
		t.Errorf("status %d, want 304", rec.Code)
	}
	req = docRequest(http.MethodGet, JWKSPath, `"other"`)
	req.Header.Add("If-None-Match", `"another"`)
	if rec := serveDoc(t, d, req); rec.Code != http.StatusOK {
		t.Errorf("status %d with no line naming the ETag, want 200", rec.Code)
	}
}

// TestDiscoveryAdvertisesOnlyIDTokens pins what discovery says broker supports: ID tokens
// only, public subjects, the openid scope.
// Guards against: extra response type in publish.go:current
func TestDiscoveryAdvertisesOnlyIDTokens(t *testing.T) {
	es, _, _ := publishKeys(t)
	pub, err := NewPublisher(PublisherConfig{Issuer: "https://broker.example.com", Keys: snapKeys{&keys.Snapshot{Version: "v1", Signing: es, Signers: []keys.Key{es}, Published: []keys.Key{es}}}})
	if err != nil {
		t.Fatal(err)
	}
	rec := serveDoc(t, pub.Routes()[DiscoveryPath], docRequest(http.MethodGet, DiscoveryPath, ""))
	var disc struct {
		ResponseTypes []string `json:"response_types_supported"`
		SubjectTypes  []string `json:"subject_types_supported"`
		Scopes        []string `json:"scopes_supported"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &disc); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		got, want []string
	}{{disc.ResponseTypes, []string{"id_token"}}, {disc.SubjectTypes, []string{"public"}}, {disc.Scopes, []string{"openid"}}} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("got %v, want %v", c.got, c.want)
		}
	}
}
