package config

import "testing"

// TestLongRotationPeriodAccepted: a period of a century (a key never rotated on schedule) is no
// bound on retain, however many times 16 periods would overflow a duration.
func TestLongRotationPeriodAccepted(t *testing.T) {
	for _, period := range []string{"200000h", "876000h"} {
		if _, err := Parse("a.yaml", []byte("issuer: https://broker.example.com\nkeys:\n  rotation: {period: "+period+"}\n")); err != nil {
			t.Errorf("period %s: %v", period, err)
		}
	}
}
