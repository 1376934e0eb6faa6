package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/runs"
)

// midExchangeAWS is an AWS exchanger that mints the run's token (presented to the cloud, which
// grants on its sub), then calls during (an admin change put in force while the cloud answers)
// and hands back credentials.
type midExchangeAWS struct {
	during func()
}

func (p midExchangeAWS) Exchange(ctx context.Context, req exchange.Request) (
	exchange.Credentials, error) {
	aud := exchange.TokenRequest{Audience: exchange.AWSAudience}
	if _, err := req.Tokens.Token(ctx, aud); err != nil {
		return exchange.Credentials{}, err
	}
	p.during()
	return exchange.Credentials{
		ExpiresAt: time.Now().Add(time.Hour),
		Env:       map[string]string{"AWS_ACCESS_KEY_ID": "AKIA-" + req.Integration.ID},
	}, nil
}

// TestCredentialsWithheldWhenSubjectTemplateChangesMidExchange: write credentials are handed out
// only if every fact that decided them still holds when they are answered, as the integration's
// version is re-checked: the run's space's subject template decides the `sub` the cloud's trust
// policy granted write on, so a template changed (put in force, answered 2xx) while the exchange
// ran withholds the credentials obtained with the old one, as a changed integration (its audience,
// its role) does.
func TestCredentialsWithheldWhenSubjectTemplateChangesMidExchange(t *testing.T) {
	var h *runsHarness
	retemplate := func() {
		swapCatalog(t, h, func(o *catalog.Objects) {
			for i := range o.Spaces {
				if o.Spaces[i].ID == "prod" {
					o.Spaces[i].SubjectTemplate = "prod:{callerId}:{runType}:{runPhase}:{scope}"
				}
			}
		})
	}
	h = newRunsHarnessWith(t, harnessOptions{checkVersions: true,
		aws: midExchangeAWS{during: retemplate}})
	run := h.start(t, runs.Tracked, runs.Applying)
	body := map[string]string{"provider": "aws"}
	code, _ := h.call(t, request{path: "/v1/credentials", bearer: run.RunToken, body: body})
	if code == http.StatusOK {
		t.Errorf("POST /v1/credentials answered 200 with write credentials obtained under the " +
			"subject template that a change put in force during the exchange replaced")
	}
}
