package vaultemu

import (
	"net/http"
	"strings"
	"time"
)

// deniedToken is Vault's error for a token it does not know (a multierror, as Vault words it).
const deniedToken = "2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n"

// deniedPolicy is Vault's refusal of a live token whose policies do not cover the operation on
// the path: the emulator's tokens hold the default policy's read of lookup-self and nothing else.
const deniedPolicy = "1 error occurred:\n\t* permission denied\n\n"

// denied answers a request Vault refuses before its handler: 403 "permission denied" without a
// token (in X-Vault-Token, or else as the Authorization header's bearer), with "invalid token"
// beside it for a token that is unknown or expired (Vault does not tell them apart). It
// returns the token when it is alive, and answers nothing then.
func (e *Emulator) denied(w http.ResponseWriter, r *http.Request) (string, issued, bool) {
	token := r.Header.Get("X-Vault-Token")
	if token == "" {
		// Only a bearer counts: a bare token, "bearer" in lower case or Basic is no token.
		if v, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			token = strings.TrimSpace(v)
		}
	}
	if token == "" {
		writeErrors(w, http.StatusForbidden, "permission denied")
		return "", issued{}, true
	}
	now := e.now()
	e.mu.Lock()
	tok, ok := e.tokens[token]
	if ok && !now.Before(tok.issuedAt.Add(tok.ttl)) {
		delete(e.tokens, token)
		ok = false
	}
	e.mu.Unlock()
	if !ok {
		writeErrors(w, http.StatusForbidden, deniedToken)
		return "", issued{}, true
	}
	return token, tok, false
}

// lookupSelf serves GET /v1/auth/token/lookup-self: the calling token's properties, or the
// refusal of denied; another method is refused as outside the token's policies.
func (e *Emulator) lookupSelf(w http.ResponseWriter, r *http.Request) {
	token, tok, refused := e.denied(w, r)
	if refused {
		return
	}
	if r.Method != http.MethodGet {
		// Any other method asks for another capability than read (update for POST and PUT).
		writeErrors(w, http.StatusForbidden, deniedPolicy)
		return
	}
	now := e.now()
	expires := tok.issuedAt.Add(tok.ttl)
	// An emulated role is the one broker trust vault prints, whose token_explicit_max_ttl is
	// its token_ttl: Vault reports that cap on every token of the role.
	writeJSON(w, http.StatusOK, map[string]any{
		"request_id": newUUID(), "lease_id": "", "renewable": false, "lease_duration": 0,
		"wrap_info": nil, "warnings": nil, "auth": nil,
		"data": map[string]any{
			"accessor": tok.accessor, "creation_time": tok.issuedAt.Unix(), "creation_ttl": int(tok.ttl.Seconds()),
			"display_name": strings.TrimSuffix(strings.ReplaceAll(tok.mount+"/", "/", "-")+tok.user, "-"), "entity_id": tok.entityID, "expire_time": expires.UTC().Format(time.RFC3339Nano),
			"explicit_max_ttl": int(tok.ttl.Seconds()), "id": token, "issue_time": tok.issuedAt.UTC().Format(time.RFC3339Nano),
			"meta": tok.meta, "num_uses": 0, "orphan": true, "path": "auth/" + tok.mount + "/login",
			"policies": tok.policies, "renewable": true, "ttl": int(expires.Sub(now).Seconds()), "type": "service",
		},
	})
}
