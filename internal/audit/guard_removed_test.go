package audit_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/brokerhq/broker/internal/audit"
)

// TestRestartRefusesAChainMissingAnEventItsCheckpointCovers: a replica starting on a chain from
// which a store writer removed events the latest checkpoint covers (relinking the rest, so that the
// checkpoint now stands at a position before the count it signs) refuses at its first check with
// ErrNotExtended, even when no checkpoint is due yet, also when only one event is gone (the
// checkpoint then stands exactly one position short of its count).
// Guards against: guard.go `claim.Count > head.CheckpointAt` -> `> head.CheckpointAt+1`
func TestRestartRefusesAChainMissingAnEventItsCheckpointCovers(t *testing.T) {
	for _, removed := range []int{1, 2, 4} {
		t.Run(fmt.Sprint(removed, " removed"), func(t *testing.T) {
			ctx := context.Background()
			m, mk := signedReplicas(t)
			held := checkpointedTrail(t, m, mk, 1)
			// Remove events 1 to removed and relink the rest, as a store writer who cannot sign can.
			forged := append(append([]audit.Event(nil), held[:1]...), held[1+removed:]...)
			relink(t, forged)
			if err := audit.Verify(forged); err != nil {
				t.Fatalf("relinked chain: %v", err)
			}
			audit.MemoryTamperer{M: m}.Replace(t, forged)
			b := mk(true)
			if wrote, err := b.Check(ctx); wrote || !errors.Is(err, audit.ErrNotExtended) {
				t.Errorf("checkpoint covering 5 events now at position %d: wrote %v, %v; want ErrNotExtended", 5-removed, wrote, err)
			}
		})
	}
}
