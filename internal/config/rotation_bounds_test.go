package config

import (
	"strings"
	"testing"
)

// TestRotationDurationsBounded: a period of ten years (a key never rotated on schedule) is
// accepted, and its bound on retain does not overflow; longer durations, whose sums the schedule
// would wrap around, are refused, as is a retain just past 16 periods.
func TestRotationDurationsBounded(t *testing.T) {
	for _, tc := range []struct {
		rotation, wantErr string
	}{
		{"{period: 87600h}", ""},
		{"{period: 87600h, prepublish: 8000h, retain: 80000h}", ""},
		{"{period: 876000h}", "keys.rotation.period"},
		{"{period: 876000h, prepublish: 800000h, retain: 2000000h}", "keys.rotation.retain"},
		{"{period: 1h, prepublish: 1m, retain: 16h}", ""},
		{"{period: 1h, prepublish: 1m, retain: 16h0m0.000000015s}", "more than 16 rotation periods"},
	} {
		_, err := Parse("a.yaml", []byte("issuer: https://broker.example.com\ntokens: {ttl: 1m}\nkeys:\n  rotation: "+tc.rotation+"\n"))
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("rotation %s: %v", tc.rotation, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("rotation %s: %v, want an error naming %s", tc.rotation, err, tc.wantErr)
		}
	}
}
