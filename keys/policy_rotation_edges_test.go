package keys_test

import (
	"errors"
	"testing"
	"time"

	"github.com/brokerhq/broker/keys"
)

// TestPolicyValidateChecksAlso pins that every algorithm of Also must be supported, like
// Alg: a policy asking for a chain of an algorithm broker cannot sign with is refused rather than
// silently keeping no such chain.
// Guards against: Validate checks only Alg, not Also (policy.go:Policy.Validate)
func TestPolicyValidateChecksAlso(t *testing.T) {
	tests := []struct {
		name string
		also []string
		ok   bool
	}{
		{"ES256 beside RS256", []string{keys.ES256}, true},
		{"HS256 beside RS256", []string{"HS256"}, false},
		{"none after ES256", []string{keys.ES256, "none"}, false},
	}
	for _, tt := range tests {
		p := keys.Policy{Period: time.Hour, Alg: keys.RS256, Also: tt.also}
		err := p.Validate()
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, keys.ErrInvalidPolicy)) {
			t.Errorf("%s: Validate() = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

// TestKeyCreatedWithinSkewIsNotMisdated pins that only a key created more than MaxClockSkew after
// now counts as saved on a clock ahead: a pending successor created 30s ahead of this replica's
// clock (within the replicas' allowed skew) whose activation lies past the horizon is kept as it
// is, not dropped and the rotation decided again.
// Guards against: misdated compares Created with now instead of now+MaxClockSkew
// (rotation.go:misdated)
func TestKeyCreatedWithinSkewIsNotMisdated(t *testing.T) {
	now := h(100)
	l := meta("l", hours{retires: 800})
	n := meta("n", hours{activates: 800})
	n.Created = now.Add(30 * time.Second)
	if d := keys.Decide(now, []keys.Meta{l, n}, policy); !d.Empty() {
		t.Errorf("Decide with a successor created 30s ahead = %+v; want no change", d)
	}
	// Past the skew, the same key is misdated and dropped.
	n.Created = now.Add(keys.MaxClockSkew + time.Second)
	if d := keys.Decide(now, []keys.Meta{l, n}, policy); len(d.Drop) != 1 || d.Drop[0] != "n" {
		t.Errorf("Decide with a successor created %v ahead = %+v; want n dropped", keys.MaxClockSkew+time.Second, d)
	}
}

// TestSigningBreaksTiesByKID pins that two keys of one chain created and activating at the
// same instant are ordered by KID, so every replica picks the same signing key and publishes the
// keys in the same order whatever order its set lists them in.
// Guards against: compareMeta returns 0 on equal Activates and Created (rotation.go:compareMeta)
func TestSigningBreaksTiesByKID(t *testing.T) {
	a := meta("a", hours{})
	b := meta("b", hours{})
	for _, set := range [][]keys.Meta{{a, b}, {b, a}} {
		if got, ok := keys.Signing(h(1), set, keys.ES256); !ok || got.KID != "b" {
			t.Errorf("Signing over %v = %s, %v; want b (the greater KID) whatever the order", metaKIDs(set), got.KID, ok)
		}
		if got := metaKIDs(keys.Published(h(1), set, policy)); len(got) != 2 || got[0] != "a" || got[1] != "b" {
			t.Errorf("Published over %v = %v; want [a b]", metaKIDs(set), got)
		}
	}
}
