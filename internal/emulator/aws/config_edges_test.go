package awsemu

import (
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestStatus500IsReceiverFault: an answer with status 500 is a Receiver fault, like every
// 5xx.
// Guards against: xml.go:writeError takes only statuses above 500 as Receiver faults
func TestStatus500IsReceiverFault(t *testing.T) {
	f := newFixture(t)
	f.emu.FailNext(1, http.StatusInternalServerError, "InternalFailure")
	status, body := f.post(t, webIdentity(f.token(t, nil)))
	e := decodeError(t, body)
	if status != http.StatusInternalServerError || e.Error.Type != "Receiver" {
		t.Errorf("injected 500: %d %+v, want 500 Receiver", status, e.Error)
	}
}

// TestConfigPrincipalsCopied: New keeps its own copy of a role's trusted principals, so
// that changing the caller's slice afterwards grants nothing.
// Guards against: emulator.go:New drops the clone of Trust.Principals
func TestConfigPrincipalsCopied(t *testing.T) {
	principals := []string{"AKIAUNTRUSTED0000001"}
	emu := New(Config{
		Roles:      []Role{{ARN: assumeTarget, Trust: Trust{Principals: principals}}},
		AccessKeys: map[string]string{accessKey: secretKey},
	})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	principals[0] = accessKey
	status, body := (&fixture{emu: emu, srv: srv}).send(t, signed{params: assumeParams("")})
	expectAnswer(t, status, body, http.StatusForbidden, "AccessDenied", "not authorized")
}

// TestDuplicateRoleFirstWins: of two roles with one ARN, the first one's trust applies.
// Guards against: emulator.go:New lets a later duplicate role replace the first
func TestDuplicateRoleFirstWins(t *testing.T) {
	emu := New(Config{
		Roles: []Role{
			{ARN: assumeTarget, Trust: Trust{Principals: []string{"AKIAUNTRUSTED0000001"}}},
			{ARN: assumeTarget, Trust: Trust{Principals: []string{accessKey}}},
		},
		AccessKeys: map[string]string{accessKey: secretKey},
	})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	status, body := (&fixture{emu: emu, srv: srv}).send(t, signed{params: assumeParams("")})
	expectAnswer(t, status, body, http.StatusForbidden, "AccessDenied", "not authorized")
}

// TestUnknownIssuerNamedToLength: a token from an issuer with no provider in the account is
// refused naming that issuer cut to its first 256 bytes, never echoing more of the caller's
// input.
// Guards against: webidentity.go:tokenError drops the 256-byte cut of the issuer
func TestUnknownIssuerNamedToLength(t *testing.T) {
	f := newFixture(t)
	iss := "https://unknown.example/" + strings.Repeat("a", 300)
	status, body := f.post(t, webIdentity(f.token(t, map[string]any{"iss": iss})))
	expectAnswer(t, status, body, http.StatusBadRequest, "InvalidIdentityToken",
		"No OpenIDConnect provider found in your account for ")
	msg := decodeError(t, body).Error.Message
	if want := "for " + iss[:256]; !strings.HasSuffix(msg, want) {
		t.Errorf("message %q, want it to end with %q", msg, want)
	}
}

// TestFailNextPrecedesMissingAction: an injected failure answers the next request before
// any validation, even one with no Action at all.
// Guards against: emulator.go:ServeHTTP injects failures only into requests naming an Action
func TestFailNextPrecedesMissingAction(t *testing.T) {
	f := newFixture(t)
	f.emu.FailNext(1, http.StatusServiceUnavailable, "ServiceUnavailable")
	status, body := f.post(t, url.Values{"Version": {APIVersion}})
	expectAnswer(t, status, body, http.StatusServiceUnavailable, "ServiceUnavailable", "")
	status, body = f.post(t, url.Values{"Version": {APIVersion}})
	expectAnswer(t, status, body, http.StatusBadRequest, "MissingAction", "")
}

// TestCallsCopiesTransitiveKeys: Calls hands out copies; changing the transitive tag keys
// it returned leaves the recorded call alone.
// Guards against: emulator.go:Calls drops the clone of TransitiveTagKeys
func TestCallsCopiesTransitiveKeys(t *testing.T) {
	f := newFixture(t)
	tags := map[string]any{"principal_tags": map[string]any{"k": []any{"v"}},
		"transitive_tag_keys": []any{"k"}}
	status, body := f.post(t, webIdentity(f.token(t, map[string]any{TagsClaim: tags})))
	if status != http.StatusOK {
		t.Fatalf("web identity: %d %s", status, body)
	}
	f.emu.Calls()[0].TransitiveTagKeys[0] = "changed"
	if got := f.emu.Calls()[0].TransitiveTagKeys; len(got) != 1 || got[0] != "k" {
		t.Errorf("Calls shares its slices: %q", got)
	}
}

// TestAssumedRoleARNKeepsPartition: a session of a role in another partition is named by
// an assumed-role ARN in that partition.
// Guards against: emulator.go:parseRole ignores the role ARN's partition
func TestAssumedRoleARNKeepsPartition(t *testing.T) {
	const cnRole = "arn:aws-cn:iam::" + account + ":role/broker-cn"
	f := fixtureWith(t, []Role{{ARN: cnRole, Trust: Trust{Issuer: freshIssuer,
		Audiences: []string{"sts.amazonaws.com"}}}})
	p := webIdentity(f.token(t, nil))
	p.Set("RoleArn", cnRole)
	status, body := f.post(t, p)
	expectAnswer(t, status, body, http.StatusOK, "", "")
	var doc webIdentityDoc
	if err := xml.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	want := "arn:aws-cn:sts::" + account + ":assumed-role/broker-cn/broker-01HZX3"
	if got := doc.Result.AssumedRoleUser.Arn; got != want {
		t.Errorf("assumed-role ARN %q, want %q", got, want)
	}
}

// TestAssumeRoleAnswersSourceIdentity: AssumeRole with a SourceIdentity the trust allows
// answers it back in the result's SourceIdentity.
// Guards against: xml.go:assumeRoleResult leaves SourceIdentity out of the document
func TestAssumeRoleAnswersSourceIdentity(t *testing.T) {
	f := newFixture(t)
	p := assumeParams(externalID)
	p.Set("SourceIdentity", "alice@example")
	status, body := f.send(t, signed{params: p})
	expectAnswer(t, status, body, http.StatusOK, "", "")
	var doc struct {
		SourceIdentity string `xml:"AssumeRoleResult>SourceIdentity"`
	}
	if err := xml.Unmarshal(body, &doc); err != nil || doc.SourceIdentity != "alice@example" {
		t.Errorf("SourceIdentity %q (%v), want alice@example: %s", doc.SourceIdentity, err, body)
	}
}

// TestExpiredSessionRememberedForADay: issuing new credentials forgets only sessions that
// expired more than a day ago; an hour after expiry, the old credentials still get 403
// ExpiredToken rather than InvalidClientTokenId.
// Guards against: sessions.go:add prunes at expiry instead of a day after
func TestExpiredSessionRememberedForADay(t *testing.T) {
	var ss sessions
	start := time.Unix(1_700_000_000, 0)
	ss.add("ASIAOLD", session{token: "old", expires: start.Add(time.Hour)}, start)
	later := start.Add(2 * time.Hour)
	ss.add("ASIANEW", session{token: "new", expires: later.Add(time.Hour)}, later)
	_, err := ss.lookup("ASIAOLD", "old", later)
	if err == nil || err.code != "ExpiredToken" || err.status != http.StatusForbidden {
		t.Errorf("an hour after expiry: %+v, want 403 ExpiredToken", err)
	}
}
