package audit

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"
)

// chainMaker builds a linked trail of token events and checkpoints signed by m's published key.
type chainMaker struct {
	t      *testing.T
	m      *trailMaker
	at     string
	events []Event
	hashes []string
}

func newChainMaker(t *testing.T) *chainMaker {
	m := newTrailMaker(t, 1)
	return &chainMaker{t: t, m: m, at: m.now.Add(-20 * time.Second).Format(time.RFC3339Nano)}
}

// link appends e, linked to the event before it.
func (c *chainMaker) link(e Event) {
	if n := len(c.hashes); n > 0 {
		e.Prev = c.hashes[n-1]
	}
	h, err := Hash(e)
	if err != nil {
		c.t.Fatal(err)
	}
	c.events, c.hashes = append(c.events, e), append(c.hashes, h)
}

// tokens appends n token events.
func (c *chainMaker) tokens(n int) {
	for range n {
		c.link(Event{ID: fmt.Sprint("e", len(c.events)), Time: c.at, Action: "token.issue"})
	}
}

// checkpoint appends a checkpoint signing the first count events.
func (c *chainMaker) checkpoint(count int) {
	claim := fmt.Sprintf(`{"iss":%q,"count":%d,"tail":%q,"time":%q,"every":5,"interval":60}`,
		makerIssuer, count, c.hashes[count-1], c.at)
	c.link(Event{ID: fmt.Sprint("cp", len(c.events)), Time: c.at, Action: CheckpointAction, Detail: c.m.sign(c.t, "k1", claim)})
}

// snapshot is the trail so far.
func (c *chainMaker) snapshot() []Event { return append([]Event(nil), c.events...) }

// TestVerifyListedKeepsWhatEveryListingMissed: a third listing keeps the events the first
// listing found missing as well as those the second did, so a trail that grew between the first
// two listings, with a checkpoint far behind in each, verifies on the third, as the whole-trail
// verification verifies it.
func TestVerifyListedKeepsWhatEveryListingMissed(t *testing.T) {
	c := newChainMaker(t)
	c.tokens(10)
	c.checkpoint(3) // at position 10: needs events 2 to 9, 4 are kept
	first := c.snapshot()
	c.tokens(10)
	c.checkpoint(13) // at position 21: needs events 12 to 20
	grown := c.snapshot()
	cfg := AnchorConfig{Issuer: makerIssuer, Keys: c.m.keys, Now: c.m.now}
	want, wantErr := refVerifyAnchored(grown, cfg)
	if wantErr != nil || want.Anchored != 13 {
		t.Fatalf("the whole-trail verification: %+v, %v; want the first 13 events anchored", want, wantErr)
	}
	listings := 0
	list := func(add func([]Event)) error {
		listings++
		if listings == 1 {
			add(first)
			return nil
		}
		add(grown)
		return nil
	}
	got, err := verifyListed(list, cfg, 4)
	if err != nil || listings != 3 || !reflect.DeepEqual(got, want) {
		t.Errorf("a trail that grew after its first listing: %+v, %v after %d listings\nwant %+v after 3", got, err, listings, want)
	}
}

// TestVerifyListedHoldsTheOldestEventKept: a checkpoint whose events start with the oldest of
// the latest events kept is checked on the first listing; one naming an event before it, on a
// second.
func TestVerifyListedHoldsTheOldestEventKept(t *testing.T) {
	cases := []struct {
		name     string
		count    int
		listings int
	}{
		{"from the oldest kept", 8, 1}, // at position 10 with 4 kept (7 to 10): needs events 7 to 9
		{"from one before it", 7, 2},   // needs events 6 to 9
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newChainMaker(t)
			c.tokens(10)
			c.checkpoint(tc.count)
			cfg := AnchorConfig{Issuer: makerIssuer, Keys: c.m.keys, Now: c.m.now}
			want, wantErr := refVerifyAnchored(c.events, cfg)
			listings := 0
			got, err := verifyListed(c.m.pages(c.events, &listings), cfg, 4)
			if fmt.Sprint(err) != fmt.Sprint(wantErr) || !reflect.DeepEqual(got, want) {
				t.Errorf("got %+v, %v\nwant %+v, %v", got, err, want, wantErr)
			}
			if listings != tc.listings {
				t.Errorf("%d listings, want %d", listings, tc.listings)
			}
		})
	}
}

// TestTrailEndingInAnUnhashableEventIsRefused: an event with no canonical form (a field that is not
// valid UTF-8, which no store appends) fails verification wherever it is, the last event of the
// trail too, and whether or not the trail is checked against a State: the first verification
// refuses it, rather than the next one blaming a rewrite that never happened.
// Guards against: the last event's hash never computed (Verify and VerifyListed check only events
// that another follows)
func TestTrailEndingInAnUnhashableEventIsRefused(t *testing.T) {
	for _, kept := range []int{3, 0} {
		c := newChainMaker(t)
		c.tokens(3)
		events := append(c.snapshot(), Event{ID: "bad", Time: c.at, Action: "token.issue", Detail: "\xff", Prev: c.hashes[2]})
		cfg := AnchorConfig{Issuer: makerIssuer, Keys: c.m.keys, Now: c.m.now}
		if kept > 0 {
			cfg.State = &State{Issuer: makerIssuer, Count: int64(kept), Tail: c.hashes[kept-1]}
		}
		const want = `event "bad": field detail is not valid UTF-8`
		if _, err := VerifyAnchored(events, cfg); err == nil || err.Error() != want {
			t.Errorf("with a state of %d events: VerifyAnchored = %v, want %q", kept, err, want)
		}
		if err := Verify(events); err == nil || err.Error() != want {
			t.Errorf("Verify = %v, want %q", err, want)
		}
	}
}

// TestTruncationBelowTheStatesCheckpointIsTruncated: a trail cut to any length shorter than what
// the verifier's State saw fails with ErrTruncated (not ErrRewritten, not success), including the
// cut that leaves exactly one event fewer than the state's checkpoint covers.
// Guards against: stream.go checkState `claim.Count > v.n` -> `claim.Count > v.n+1`
func TestTruncationBelowTheStatesCheckpointIsTruncated(t *testing.T) {
	c := newChainMaker(t)
	c.tokens(10)
	c.checkpoint(10) // at position 10, covers events 0 to 9
	c.tokens(2)      // 13 events in all
	full := c.snapshot()
	cfg := AnchorConfig{Issuer: makerIssuer, Keys: c.m.keys, Now: c.m.now}
	r, err := VerifyAnchored(full, cfg)
	if err != nil {
		t.Fatalf("intact trail: %v", err)
	}
	if r.State.Count != 13 || r.State.Checkpoint == "" {
		t.Fatalf("state = %+v, want 13 events and the checkpoint", r.State)
	}
	for _, keep := range []int{0, 1, 5, 9, 10, 11, 12} {
		t.Run(fmt.Sprint("keep ", keep), func(t *testing.T) {
			state := r.State
			cfg := cfg
			cfg.State = &state
			_, err := VerifyAnchored(full[:keep], cfg)
			if !errors.Is(err, ErrTruncated) {
				t.Errorf("trail cut to %d of 13 events: %v, want ErrTruncated", keep, err)
			}
		})
	}
	state := r.State
	cfg.State = &state
	if _, err := VerifyAnchored(full, cfg); err != nil {
		t.Errorf("the same trail again with its state: %v", err)
	}
}
