package issuer

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/keys"
)

// serveAt mounts pub on a ServeMux (which broker's router wraps) and answers a GET of the
// absolute URL target the way a relying party sends it; a panic while mounting is an error.
func serveAt(pub *Publisher, target string) (code int, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("mounting the documents panicked: %v", r)
		}
	}()
	rt := http.NewServeMux()
	pub.Mount(rt)
	u, perr := url.Parse(target)
	if perr != nil {
		return 0, perr
	}
	rec := httptest.NewRecorder()
	rt.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, u.RequestURI(), nil))
	return rec.Code, nil
}

// An issuer that configuration validation accepts is one broker can serve: mounting its
// documents does not panic (broker serve would die with a stack trace), and discovery and the
// JWKS answer 200 at the issuer plus their well-known path, where relying parties fetch them.
// An issuer broker cannot serve is refused by config.CheckIssuer instead.
func TestEveryAcceptedIssuerIsServed(t *testing.T) {
	es, _, _ := publishKeys(t)
	src := snapKeys{&keys.Snapshot{Version: "v1", Signing: es, Signers: []keys.Key{es},
		Published: []keys.Key{es}}}
	issuers := []string{
		"https://broker.example.com/tenant",
		"https://broker.example.com//tenant",
		"https://broker.example.com/tenant/.",
		"https://broker.example.com/a/../tenant",
		"https://broker.example.com/a%7Bb",
		"https://broker.example.com/a%2Fb",
		"https://broker.example.com/a%20b",
		"https://broker.example.com/a;b",
		"https://broker.example.com/a:b@c",
		"https://broker.example.com/a$b",
		"https://broker.example.com/t-1.a_b~c/v2",
	}
	served := 0
	for _, iss := range issuers {
		if config.CheckIssuer(iss) != nil {
			continue // refused by validation: never served
		}
		served++
		pub, err := NewPublisher(PublisherConfig{Issuer: iss, Keys: src, MaxAge: time.Second})
		if err != nil {
			t.Errorf("issuer %s: accepted by validation, refused by NewPublisher: %v", iss, err)
			continue
		}
		for _, doc := range []string{iss + DiscoveryPath, pub.JWKSURL()} {
			code, err := serveAt(pub, doc)
			if err != nil || code != http.StatusOK {
				t.Errorf("issuer %s accepted by validation: GET %s = %d, %v; want 200",
					iss, doc, code, err)
			}
		}
	}
	if served != 2 {
		t.Errorf("%d of the issuers accepted, want the two plain ones", served)
	}
}
