package server

import (
	"testing"
)

// TestAuditListingLimitBounds pins the audit listing's limit parameter: 1 and MaxAuditLimit (1000)
// are accepted, 0, 1001 and non-numbers are 400 invalid_request.
// Guards against: internal/api/audit.go:63 n > MaxAuditLimit -> n > MaxAuditLimit+1
// Guards against: internal/api/audit.go:63 n < 1 -> n < 0
func TestAuditListingLimitBounds(t *testing.T) {
	ts := startServer(t, serverOptions{})
	for _, tc := range []struct {
		limit string
		want  int
	}{
		{"1", 200}, {"1000", 200}, {"0", 400}, {"1001", 400}, {"-1", 400}, {"ten", 400}, {"1e3", 400},
	} {
		if code := ts.call(t, apiRequest{method: "GET", path: "/v1/audit?space=root&limit=" + tc.limit, bearer: auditorSecret}); code != tc.want {
			t.Errorf("limit=%s: %d, want %d", tc.limit, code, tc.want)
		}
	}
}
