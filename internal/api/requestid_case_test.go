package api

import "testing"

// TestRequestIDHoldingSecretInAnyCaseRefused checks that a request id holding a broker secret's
// prefix in any case is not taken (a fresh id is made): as the id, the secret would be written
// into every log line of the request.
// Guards against: requestid.go:wellFormedRequestID looking for a lower-case "brk_" only, so
// "BRK_RUN_<secret>" was taken as the request's id.
func TestRequestIDHoldingSecretInAnyCaseRefused(t *testing.T) {
	for _, id := range []string{"brk_run_s3cr3t", "BRK_RUN_s3cr3t", "x-Brk_k3y"} {
		if wellFormedRequestID(id) || wellFormedRequestID([]byte(id)) {
			t.Errorf("wellFormedRequestID(%q) = true, want false", id)
		}
	}
}
