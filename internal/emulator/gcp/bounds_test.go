package gcpemu

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/oidctest"
)

// TestSubjectOf127BytesIsTaken pins Google's google.subject bound to the byte: a mapped
// subject of 127 bytes is exchanged, one of 128 is refused 400 invalid_request.
// Guards against: internal/emulator/gcp/sts.go:142 "len(subject) > maxSubjectBytes" -> ">="
func TestSubjectOf127BytesIsTaken(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		n      int
		status int
	}{{127, http.StatusOK}, {128, http.StatusBadRequest}} {
		c := claims("read")
		c["sub"] = strings.Repeat("s", tc.n)
		status, body := f.postSTS(t, stsForm(f.iss.Sign(t, oidctest.Token{Claims: c})))
		if status != tc.status {
			t.Errorf("google.subject of %d bytes: %d %v, want %d", tc.n, status, body, tc.status)
		}
	}
}

// TestLifetimeMustBePositive pins that generateAccessToken refuses a lifetime of zero
// (400 INVALID_ARGUMENT on the lifetime field): the lifetime must be greater than 0s.
// Guards against: internal/emulator/gcp/iam.go:140 "d <= 0" -> "d < 0"
func TestLifetimeMustBePositive(t *testing.T) {
	f := newFixture(t)
	fed := f.federatedToken(t, "read")
	for _, lifetime := range []string{"0s", "0.000s", "-1s"} {
		status, body := f.postIAM(t, readerSA, fed, map[string]any{"scope": []string{cloudScope}, "lifetime": lifetime})
		if s, _ := rpcErr(body); status != http.StatusBadRequest || s != "INVALID_ARGUMENT" {
			t.Errorf("lifetime %q: %d %v, want 400 INVALID_ARGUMENT", lifetime, status, body)
		}
	}
}

// TestServiceAccountMatchedWhole pins that the service account is found by its whole
// email (case aside): a name that is only a prefix of a configured account's email is 404,
// never that account.
// Guards against: internal/emulator/gcp/iam.go:119 EqualFold -> HasPrefix in account()
func TestServiceAccountMatchedWhole(t *testing.T) {
	f := newFixture(t)
	fed := f.federatedToken(t, "read")
	for _, id := range []string{"reader", "reader@demo", "READER@demo"} {
		status, body := f.postIAM(t, id, fed, map[string]any{"scope": []string{cloudScope}})
		if status != http.StatusNotFound {
			t.Errorf("service account %q: %d %v, want 404", id, status, body)
		}
	}
	if status, body := f.postIAM(t, strings.ToUpper(readerSA), fed, map[string]any{"scope": []string{cloudScope}}); status != http.StatusOK {
		t.Errorf("service account in upper case: %d %v, want 200", status, body)
	}
}

// TestAccessTokenInfoReportsExpiry pins that AccessTokenInfo reports an access token as
// no longer live once its lifetime has passed.
// Guards against: internal/emulator/gcp/emulator.go:135 "e.now().Before(info.ExpiresAt)" -> "true"
func TestAccessTokenInfoReportsExpiry(t *testing.T) {
	f := newFixture(t)
	fed := f.federatedToken(t, "read")
	status, body := f.postIAM(t, readerSA, fed, map[string]any{"scope": []string{cloudScope}, "lifetime": "60s"})
	if status != http.StatusOK {
		t.Fatalf("generateAccessToken: %d %v", status, body)
	}
	token := body["accessToken"].(string)
	if info, live := f.emu.AccessTokenInfo(token); !live || info.ServiceAccount != readerSA {
		t.Fatalf("fresh token: %+v live=%v", info, live)
	}
	f.clock.advance(61 * time.Second)
	if _, live := f.emu.AccessTokenInfo(token); live {
		t.Errorf("token 61 s after a 60 s lifetime is reported live")
	}
}
