package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/brokerhq/broker/internal/access"
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
	runToken, _ := access.BearerToken(r.Header)
	// A secret sent as the audience is a refused token the trail records, like an API key's
	// below; a malformed audience is a malformed request.
	if err := checkAudience(req.Audience, runToken); errors.Is(err, errSecretAudience) {
		return tokenRefusal{err: err, audited: errSecretAudience}
	} else if err != nil {
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
// a broker secret (audienceHoldsSecret) with errSecretAudience; empty means the default.
// runToken is the caller's run token.
func checkAudience(aud, runToken string) error {
	if aud == "" {
		return nil
	}
	if err := config.CheckAudience(aud); err != nil {
		return apierror.New(apierror.CodeInvalidRequest, "Field \"audience\" %v.", err)
	}
	// A broker secret sent as the audience, or within it (a mixed-up variable, a URL built
	// around one), would be written into the trail and into a token handed to a cloud:
	// refused, and never repeated.
	if audienceHoldsSecret(aud, runToken) {
		return errSecretAudience
	}
	return nil
}

// audienceHoldsSecret reports whether aud, as sent or percent-decoded any number of times,
// holds a broker secret's prefix in any case (redact.Holds), or the material of runToken (what
// follows runs.TokenPrefix) in any case: a secret shouted, with its prefix left off, or
// percent-encoded is the same secret. Decoding ends when a round changes nothing; each round
// that changes aud shortens it, so CheckAudience's length bound bounds the rounds.
func audienceHoldsSecret(aud, runToken string) bool {
	material := strings.TrimPrefix(runToken, runs.TokenPrefix)
	for {
		if redact.Holds(aud) || material != "" && containsFold(aud, material) {
			return true
		}
		next := percentDecodeOnce(aud)
		if next == aud {
			return false
		}
		aud = next
	}
}

// containsFold reports whether s holds sub in any case of their ASCII letters, allocating nothing
// (it runs on every token request with an audience).
func containsFold(s, sub string) bool {
	first := sub[0] | 0x20
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i]|0x20 == first && strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

// percentDecodeOnce returns s with each %XX (two hex digits) replaced by the byte it encodes, and
// every other character, a '%' not followed by two hex digits too, as it is.
func percentDecodeOnce(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			hi, okHi := hexValue(s[i+1])
			lo, okLo := hexValue(s[i+2])
			if okHi && okLo {
				b = append(b, hi<<4|lo)
				i += 2
				continue
			}
		}
		b = append(b, s[i])
	}
	return string(b)
}

// hexValue returns the value of the hex digit c, in either case, and whether c is one.
func hexValue(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
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
