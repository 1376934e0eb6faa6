package api_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/claims"
	"github.com/brokerhq/broker/internal/runs"
)

// subOfJWT returns the `sub` claim of jwt (not verified: the test's own server signed it).
func subOfJWT(t *testing.T, jwt string) string {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %d parts", len(parts))
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Sub string `json:"sub"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	return c.Sub
}

// TestTokenAfterSubjectTemplateChangeCarriesIt: a token handed out after a change of its run's
// subject template was put in force carries the `sub` that template renders, or is withheld, as one
// whose stack was deleted meanwhile is: the template decides which trust policies (write roles'
// included) the token matches, and a change answered 2xx is in force at once.
func TestTokenAfterSubjectTemplateChangeCarriesIt(t *testing.T) {
	h := newRunsHarnessWith(t, harnessOptions{checkVersions: true})
	run := h.start(t, runs.Tracked, runs.Applying)
	entered, release := holdEvent(t, h, "token.issue")
	var ans struct {
		Token string `json:"token"`
	}
	done := make(chan int, 1)
	go func() {
		code := 0
		defer func() { done <- code }()
		code, _ = h.call(t, request{path: "/v1/token", bearer: run.RunToken,
			body: map[string]string{}, out: &ans})
	}()
	waitClosed(t, entered, "the token event was never recorded")
	swapCatalog(t, h, func(o *catalog.Objects) {
		for i := range o.Spaces {
			if o.Spaces[i].ID == "prod" {
				o.Spaces[i].SubjectTemplate = "prod:{callerId}:{runType}:{runPhase}:{scope}"
			}
		}
	})
	release()
	if code := <-done; code != http.StatusOK {
		return // withheld: sound
	}
	want, _ := h.live.Load().Subject(claims.Subject{SpaceID: run.Run.Space,
		CallerType: claims.CallerTypeStack, CallerID: run.Run.Stack, Run: run.Run})
	if got := subOfJWT(t, ans.Token); got != want {
		t.Errorf("token handed out after the template change carries sub %q; the template in "+
			"force makes %q", got, want)
	}
}
