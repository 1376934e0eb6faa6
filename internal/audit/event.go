package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/gowebpki/jcs"
)

// Outcomes.
const (
	Success = "success"
	Denied  = "denied"
	Failed  = "error"
)

// Event is one audit record, exactly as GET /v1/audit returns it.
type Event struct {
	ID          string `json:"id"`
	Time        string `json:"time"`
	Actor       string `json:"actor"`
	Action      string `json:"action"`
	Space       string `json:"space"`
	Stack       string `json:"stack"`
	Run         string `json:"run"`
	Integration string `json:"integration"`
	Outcome     string `json:"outcome"`
	Detail      string `json:"detail"`
	Prev        string `json:"prev"`
}

// Hash is the lowercase hex SHA-256 of e's RFC 8785 canonical JSON: the Prev of the next event.
func Hash(e Event) (string, error) {
	raw, err := json.Marshal(e)
	if err != nil {
		return "", err
	}
	canonical, err := jcs.Transform(raw)
	if err != nil {
		return "", fmt.Errorf("canonicalize event %s: %w", e.ID, err)
	}
	sum := sha256.Sum256(canonical)
	return hex.EncodeToString(sum[:]), nil
}

// ErrBroken is returned by Verify when a link of the chain does not hold.
var ErrBroken = errors.New("audit chain broken")

// Verify checks that each event's Prev is the hash of the one before it, for a contiguous run of
// the chain (the first event's Prev is not checked: it points before the run).
func Verify(events []Event) error {
	for i := 1; i < len(events); i++ {
		want, err := Hash(events[i-1])
		if err != nil {
			return err
		}
		if events[i].Prev != want {
			return fmt.Errorf("%w at event %s (index %d): prev %q, want %q", ErrBroken, events[i].ID, i, events[i].Prev, want)
		}
	}
	return nil
}
