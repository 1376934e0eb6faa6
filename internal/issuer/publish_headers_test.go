package issuer

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/brokerhq/broker/keys"
)

// TestIfNoneMatchLines pins that If-None-Match lines form one list, as if joined by commas: an
// ETag named in the first or only in a later line answers 304, and 200 when no line names it.
// Guards against: last line read instead of the first in publish.go:serve
func TestIfNoneMatchLines(t *testing.T) {
	es, _, _ := publishKeys(t)
	pub, err := NewPublisher(PublisherConfig{Issuer: "https://broker.example.com", Keys: snapKeys{&keys.Snapshot{Version: "v1", Signing: es, Signers: []keys.Key{es}, Published: []keys.Key{es}}}, MaxAge: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	d := pub.Routes()[JWKSPath]
	etag := serveDoc(t, d, docRequest(http.MethodGet, JWKSPath, "")).Header().Get("Etag")
	for _, tc := range []struct {
		name  string
		lines [2]string
		want  int
	}{
		{"first line", [2]string{etag, `"other"`}, http.StatusNotModified},
		{"second line", [2]string{`"other"`, etag}, http.StatusNotModified},
		{"no line", [2]string{`"other"`, `"another"`}, http.StatusOK},
	} {
		req := docRequest(http.MethodGet, JWKSPath, tc.lines[0])
		req.Header.Add("If-None-Match", tc.lines[1])
		if rec := serveDoc(t, d, req); rec.Code != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, rec.Code, tc.want)
		}
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
