package vaultemu

import (
	"net/http"
	"time"
)

// deniedToken is Vault's error for a token it does not know (a multierror, as Vault words it).
const deniedToken = "2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n"

// lookupSelf serves GET /v1/auth/token/lookup-self: the calling token's properties, or 403
// "permission denied" and "invalid token" for a token that is unknown or expired (Vault does not tell them apart).
func (e *Emulator) lookupSelf(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeErrors(w, http.StatusMethodNotAllowed, "unsupported operation")
		return
	}
	token := r.Header.Get("X-Vault-Token")
	now := e.now()
	e.mu.Lock()
	tok, ok := e.tokens[token]
	if ok && !now.Before(tok.issuedAt.Add(tok.ttl)) {
		delete(e.tokens, token)
		ok = false
	}
	e.mu.Unlock()
	if token == "" || !ok {
		writeErrors(w, http.StatusForbidden, deniedToken)
		return
	}
	expires := tok.issuedAt.Add(tok.ttl)
	writeJSON(w, http.StatusOK, map[string]any{
		"request_id": newUUID(), "lease_id": "", "renewable": false, "lease_duration": 0,
		"wrap_info": nil, "warnings": nil, "auth": nil,
		"data": map[string]any{
			"accessor": tok.accessor, "creation_time": tok.issuedAt.Unix(), "creation_ttl": int(tok.ttl.Seconds()),
			"display_name": tok.mount + "-" + tok.role, "entity_id": "", "expire_time": expires.UTC().Format(time.RFC3339Nano),
			"explicit_max_ttl": 0, "id": token, "issue_time": tok.issuedAt.UTC().Format(time.RFC3339Nano),
			"meta": tok.meta, "num_uses": 0, "orphan": true, "path": "auth/" + tok.mount + "/login",
			"policies": tok.policies, "renewable": true, "ttl": int(expires.Sub(now).Seconds()), "type": "service",
		},
	})
}
