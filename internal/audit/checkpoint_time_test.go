package audit

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// TestVerifyAnchoredRefusesACheckpointMovedInTime: a checkpoint's signed claim names the time
// of its event. A store writer who moves the checkpoint event's time and recomputes the links
// after it keeps the chain whole and the signature valid, and must still be found out.
func TestVerifyAnchoredRefusesACheckpointMovedInTime(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key},
		(&jose.SignerOptions{}).WithType(CheckpointType).WithHeader("kid", "k1"))
	if err != nil {
		t.Fatal(err)
	}
	jwks := &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}}
	now := time.Now().UTC()
	at := now.Format(time.RFC3339Nano)
	link := func(events []Event) []Event {
		prev := ""
		for i := range events {
			events[i].Prev = prev
			prev, err = Hash(events[i])
			if err != nil {
				t.Fatal(err)
			}
		}
		return events
	}
	var events []Event
	for i := range 3 {
		events = append(events, Event{ID: fmt.Sprint("e", i), Time: at, Action: "token.issue", Space: "root", Outcome: Success})
	}
	events = link(events)
	tail, err := Hash(events[2])
	if err != nil {
		t.Fatal(err)
	}
	obj, err := signer.Sign(fmt.Appendf(nil, `{"iss":"https://b.test","count":3,"tail":%q,"time":%q,"every":5,"interval":60}`, tail, at))
	if err != nil {
		t.Fatal(err)
	}
	jws, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	events = link(append(events, Event{ID: "cp", Time: at, Action: CheckpointAction, Space: "root", Outcome: Success, Detail: jws}))
	cfg := AnchorConfig{Issuer: "https://b.test", Keys: jwks, Now: now.Add(10 * time.Second)}
	if r, err := VerifyAnchored(events, cfg); err != nil || r.Verified != 1 {
		t.Fatalf("intact trail: %+v, %v; want one checkpoint verified", r, err)
	}

	events[3].Time = now.Add(-48 * time.Hour).Format(time.RFC3339Nano)
	events = link(events)
	if err := Verify(events); err != nil {
		t.Fatalf("the relinked chain is not whole, so the case is not the one meant: %v", err)
	}
	if _, err := VerifyAnchored(events, cfg); !errors.Is(err, ErrRewritten) {
		t.Errorf("checkpoint event moved 48 h back: %v, want ErrRewritten", err)
	}
}

// TestRunTick: Run looks at the chain every quarter of the interval, or of MaxAge when that is
// shorter, never less often than every 15 s however long the interval, and never more often
// than minTick.
func TestRunTick(t *testing.T) {
	for _, tc := range []struct {
		interval, maxAge, want time.Duration
	}{
		{4 * time.Second, 0, time.Second},
		{time.Minute, 0, 15 * time.Second},
		{time.Hour, 0, 15 * time.Second},
		{time.Hour, 4 * time.Second, time.Second},
		{time.Hour, 2 * time.Hour, 15 * time.Second},
		{4 * time.Second, time.Minute, time.Second},
		{time.Second, 0, minTick},
		{time.Hour, 100 * time.Millisecond, minTick},
	} {
		if got := runTick(tc.interval, tc.maxAge); got != tc.want {
			t.Errorf("runTick(%v, %v) = %v, want %v", tc.interval, tc.maxAge, got, tc.want)
		}
	}
}
