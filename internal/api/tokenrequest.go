package api

import (
	"net/http"
	"strings"

	"github.com/brokerhq/broker/internal/apierror"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/redact"
	"github.com/brokerhq/broker/internal/runs"
)

// tokenRequest is the body of POST /v1/token: the audience asked for, empty for the default.
type tokenRequest struct {
	Audience string `json:"audience"`
}

// tokenAudiencePrefix and tokenAudienceSuffix frame the compact body {"audience":"..."}.
const (
	tokenAudiencePrefix = `{"audience":"`
	tokenAudienceSuffix = `"}`
)

// decodeFast accepts exactly {} and {"audience":"A"} with no white space, where A is printable
// ASCII without '"' or a backslash: the bodies whose JSON decoding is A itself. Anything else is
// left to encoding/json.
func (t *tokenRequest) decodeFast(data []byte) bool {
	if string(data) == "{}" {
		return true
	}
	if len(data) < len(tokenAudiencePrefix)+len(tokenAudienceSuffix) ||
		string(data[:len(tokenAudiencePrefix)]) != tokenAudiencePrefix ||
		string(data[len(data)-len(tokenAudienceSuffix):]) != tokenAudienceSuffix {
		return false
	}
	aud := data[len(tokenAudiencePrefix) : len(data)-len(tokenAudienceSuffix)]
	for _, c := range aud {
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	t.Audience = string(aud)
	return true
}

// tokenRefusal is why a token request is refused before a token is minted.
type tokenRefusal struct {
	err error
	// audited is the refusal the trail records as the run's, nil for none.
	audited *apierror.Error
}

// checkTokenRequest decodes r's body into req and checks its audience for run: its form, the
// run's budget of distinct audiences, and that it is no API key's secret.
func (wk *Worker) checkTokenRequest(r *http.Request, run runs.Run, req *tokenRequest) tokenRefusal {
	if err := decodeBody(r, req, bodyOptional); err != nil {
		return tokenRefusal{err: err}
	}
	if err := checkAudience(req.Audience); err != nil {
		return tokenRefusal{err: err}
	}
	if req.Audience == "" {
		return tokenRefusal{}
	}
	// A run's code may try audiences; past MaxRunAudiences distinct ones it may not, so that
	// the lookup below tells it at most that many times whether one is a secret.
	if !wk.audiences.admit(run, req.Audience, wk.cfg.Now()) {
		return tokenRefusal{err: errTooManyAudiences, audited: errTooManyAudiences}
	}
	// An API key's secret, whatever its form (the file may declare any), is one whose SHA-256
	// the catalog holds.
	if _, err := wk.cfg.Catalog.Load().Access().Authenticate(req.Audience); err == nil {
		return tokenRefusal{err: errSecretAudience, audited: errSecretAudience}
	}
	return tokenRefusal{}
}

// checkAudience applies config.CheckAudience to a requested audience and refuses one that holds
// a broker secret's prefix; empty means the default.
func checkAudience(aud string) error {
	if aud == "" {
		return nil
	}
	if err := config.CheckAudience(aud); err != nil {
		return apierror.New(apierror.CodeInvalidRequest, "Field \"audience\" %v.", err)
	}
	// A broker secret sent as the audience, or within it (a mixed-up variable, a URL built
	// around one), would be written into the trail and into a token handed to a cloud:
	// refused, and never repeated.
	if strings.Contains(aud, redact.Prefix) {
		return errSecretAudience
	}
	return nil
}

// audienceRefused records why, a refusal of the audience run asked for, as a denied
// token.issue event, never naming the audience.
func (wk *Worker) audienceRefused(r *http.Request, run runs.Run, why *apierror.Error) {
	recordRefusal(r.Context(), wk.cfg.Events, wk.cfg.Logger, Event{Actor: "run:" + run.ID, Action: "token.issue",
		Run: run, Outcome: "denied", Detail: why.Message})
}

// errSecretAudience refuses an audience that is, or holds, a broker secret (a run token or an
// API key sent by mistake), without repeating it: written into the token's event and aud, the
// secret would reach every reader of the trail and the cloud.
var errSecretAudience = apierror.New(apierror.CodeInvalidRequest, "Field \"audience\" is, or holds, a broker secret (a run token or an API key); send the relying party's audience.")
