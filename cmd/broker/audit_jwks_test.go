package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/audit"
)

// broker audit verify refuses a --jwks file that is no key set ({}): on the old code it was taken
// as an empty key set, and every checkpoint then counted as unverifiable.
func TestAuditVerifyRefusesJWKSWithoutKeys(t *testing.T) {
	s := startAuditServer(t)
	s.waitNoCheckpointDue(t)

	dir := t.TempDir()
	notASet := filepath.Join(dir, "empty-object.json")
	if err := os.WriteFile(notASet, []byte(`{}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := broker(t, s.env, "audit", "verify", "--jwks", notASet); r.code != 1 || !strings.Contains(r.stderr, `has no "keys" member`) {
		t.Errorf("--jwks {}: %+v", r)
	}

}

// A failure of the checkpoint schedule names the checkpoints past the latest that verifies whose
// keys the JWKS does not publish (each key once), and stays a failure; one with no such
// checkpoint is left as it is.
func TestUnpublishedNote(t *testing.T) {
	schedule := fmt.Errorf("%w: 5 events older than 1m0s follow the latest checkpoint that verifies", audit.ErrUnanchored)
	latest := &audit.Anchor{At: 10}
	r := audit.Report{Latest: latest, Unverifiable: []audit.Anchor{{At: 4, KID: "old"}, {At: 12, KID: "gone"}, {At: 20, KID: "gone"}}}
	err := unpublishedNote(schedule, r)
	if !errors.Is(err, audit.ErrUnanchored) || !strings.Contains(err.Error(), "2 checkpoints past it are signed by keys the JWKS does not publish (gone)") {
		t.Errorf("with unpublished keys past the latest: %v", err)
	}
	if err := unpublishedNote(schedule, audit.Report{Latest: latest, Unverifiable: []audit.Anchor{{At: 4, KID: "old"}}}); err != schedule {
		t.Errorf("with none past the latest: %v, want the failure as it was", err)
	}
}
