package gcp

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestSTSStepNamedWhateverTheSchemeCase: an STS refusal is named as the STS step even
// when sts_endpoint spells its scheme in capitals (the configuration accepts "HTTP://", URL
// schemes being case-insensitive), never as the generateAccessToken call that was never made.
func TestSTSStepNamedWhateverTheSchemeCase(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant",
			"error_description": "The audience in ID Token [x] does not match."})
	}))
	t.Cleanup(srv.Close)
	base := "HTTP://" + strings.TrimPrefix(srv.URL, "http://")
	up := upstreamOf(t, exchangeWith(t, base, nil))
	if up.Code != "invalid_grant" || !strings.HasPrefix(up.Message, "STS token exchange: ") {
		t.Errorf("error %+v, want the STS step named", up)
	}
}
