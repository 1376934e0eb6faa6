package api

import (
	"fmt"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/runs"
)

// TestAudienceLedgerEviction: a ledger full of runs makes room for a new run by dropping the
// runs expired, all of them, and when none has expired by dropping one; the new run is then
// counted from its first audience.
func TestAudienceLedgerEviction(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	for _, tc := range []struct {
		name    string
		expires time.Time // of every run filling the ledger
		want    int       // runs kept, the new one included
	}{
		{"every run expired", now, 1},
		{"none expired", now.Add(time.Hour), maxLedgerRuns},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newAudienceLedger()
			for i := range maxLedgerRuns {
				l.admit(runs.Run{ID: fmt.Sprintf("run-%05d", i), ExpiresAt: tc.expires}, "aud", now)
			}
			fresh := runs.Run{ID: "fresh", ExpiresAt: now.Add(time.Hour)}
			if !l.admit(fresh, "aud", now) {
				t.Fatal("the new run's first audience refused")
			}
			if got := len(l.runs); got != tc.want {
				t.Errorf("%d runs kept, want %d", got, tc.want)
			}
			if e := l.runs["fresh"]; e == nil || len(e.seen) != 1 {
				t.Errorf("the new run's entry: %+v, want one audience", e)
			}
		})
	}
}
