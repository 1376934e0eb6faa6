package issuer

import (
	"testing"
	"time"

	"github.com/brokerhq/broker/keys"
)

// TestFirstDueIgnoresAKeyActivatingNow checks that a key whose activation is exactly the
// snapshot's time is not "still ahead": it signs already, so firstDue does not report it as due.
// Guards against: firstDue counting Activates == At as ahead (After -> !Before)
func TestFirstDueIgnoresAKeyActivatingNow(t *testing.T) {
	t0 := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	snap := &keys.Snapshot{At: t0, Published: []keys.Key{
		{Meta: keys.Meta{KID: "rs-now", Alg: keys.RS256, Created: t0, Activates: t0}},
	}}
	if got := firstDue(snap, keys.RS256); !got.IsZero() {
		t.Errorf("firstDue with the only key activating at the snapshot's time = %s, want zero", got)
	}
}

// TestNewPublisherRefusesAnUnparsableIssuer checks that an issuer that is not a URL is
// refused when the Publisher is built, rather than served with a wrong path prefix.
// Guards against: NewPublisher ignoring url.Parse's error
func TestNewPublisherRefusesAnUnparsableIssuer(t *testing.T) {
	for _, iss := range []string{"http://[::1", "https://broker.example/%zz", "http://a b/"} {
		if p, err := NewPublisher(PublisherConfig{Issuer: iss}); err == nil {
			t.Errorf("NewPublisher(%q) = %v, nil; want an error", iss, p)
		}
	}
}
