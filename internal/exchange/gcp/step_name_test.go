package gcp

import (
	"strings"
	"testing"
)

// TestSTSStepNamedWhateverTheSchemeCase: an STS refusal is named as the STS step even
// when sts_endpoint spells its scheme in capitals (the configuration accepts "HTTP://", URL
// schemes being case-insensitive), never as the generateAccessToken call that was never made.
func TestSTSStepNamedWhateverTheSchemeCase(t *testing.T) {
	endpoint := invalidGrantServer(t, "The audience in ID Token [x] does not match.")
	base := "HTTP://" + strings.TrimPrefix(endpoint, "http://")
	up := upstreamOf(t, exchangeWith(t, base, nil))
	if up.Code != "invalid_grant" || !strings.HasPrefix(up.Message, "STS token exchange: ") {
		t.Errorf("error %+v, want the STS step named", up)
	}
}
