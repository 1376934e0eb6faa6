package loadgen

import (
	"context"
	"testing"
	"time"

	"github.com/brokerhq/broker/keys"
)

// TestOnlySkipsTheRawSigningItDoesNotNeed checks that a run with --only measures the figures
// named and what they need and reports the rest as skipped: with --only token_rs256_memory
// nothing needs raw ES256 signing, so raw_sign_es256 is skipped, not measured on its own.
func TestOnlySkipsTheRawSigningItDoesNotNeed(t *testing.T) {
	s := onlySuite(t, []string{"token_rs256_memory"})
	s.refs[keys.RS256].Add(Result{Count: 10, Elapsed: 10 * time.Millisecond})
	s.finishReferences(context.Background())
	if f := s.fig("raw_sign_es256"); f.Status != StatusSkipped {
		t.Errorf("raw_sign_es256 under --only token_rs256_memory: status %q, value %.0f (%s);"+
			" want skipped", f.Status, f.Value, f.Detail)
	}
}

// onlySuite is childSuite with Config.Only set to only.
func onlySuite(t *testing.T, only []string) *suite {
	t.Helper()
	s := childSuite(t, 50*time.Millisecond)
	s.cfg.Only = only
	s.report = &Report{Figures: s.plan()}
	return s
}
