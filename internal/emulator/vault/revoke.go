package vaultemu

import "net/http"

// revokeSelf serves POST (or PUT) /v1/auth/token/revoke-self: the calling token is revoked at
// once and the answer is 204, as Vault's default policy lets every token revoke itself; the
// refusal of denied for a token it does not know; another method asks for a capability the
// default policy does not give (update is the one it gives).
func (e *Emulator) revokeSelf(w http.ResponseWriter, r *http.Request) {
	token, _, refused := e.denied(w, r)
	if refused {
		return
	}
	if r.Method != http.MethodPost && r.Method != http.MethodPut {
		writeErrors(w, http.StatusForbidden, deniedPolicy)
		return
	}
	e.mu.Lock()
	delete(e.tokens, token)
	e.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}
