package issuer

import (
	"testing"
	"time"

	"github.com/brokerhq/broker/keys"
)

// TestFirstDueIsTheEarliestAheadOfTheAlgorithm: firstDue is the earliest Activates still ahead
// among the published keys of the algorithm, in whatever order they are published, ignoring
// other algorithms and keys whose activation is past (a chain no longer kept); zero when there
// is none.
func TestFirstDueIsTheEarliestAheadOfTheAlgorithm(t *testing.T) {
	t0 := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	key := func(alg string, at time.Time) keys.Key {
		return keys.Key{Meta: keys.Meta{KID: alg + at.Format("150405"), Alg: alg, Created: t0, Activates: at}}
	}
	snap := &keys.Snapshot{At: t0.Add(time.Hour), Published: []keys.Key{
		key(keys.ES256, t0),
		key(keys.RS256, t0), // activated already: a chain no longer kept
		key(keys.RS256, t0.Add(48*time.Hour)),
		key(keys.RS256, t0.Add(24*time.Hour)),
		key(keys.RS256, t0.Add(72*time.Hour)),
	}}
	if got := firstDue(snap, keys.RS256); !got.Equal(t0.Add(24 * time.Hour)) {
		t.Errorf("firstDue(RS256) = %s, want %s", got, t0.Add(24*time.Hour))
	}
	if got := firstDue(snap, keys.ES256); !got.IsZero() {
		t.Errorf("firstDue(ES256), whose only key activated before now = %s, want zero", got)
	}
	if got := firstDue(snap, "PS256"); !got.IsZero() {
		t.Errorf("firstDue of an algorithm not published = %s, want zero", got)
	}
}
