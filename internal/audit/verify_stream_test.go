package audit

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// trailMaker builds trails, intact or tampered with in the ways a store writer who cannot sign
// can, and a few a buggy store could, with checkpoints signed by a published key, by a key the
// JWKS no longer publishes, or by no key it names.
type trailMaker struct {
	rnd    *mrand.Rand
	now    time.Time
	keys   *jose.JSONWebKeySet
	signer map[string]jose.Signer // by kid: "k1" published, "gone" unpublished, "forged" names k1 with another key
}

const makerIssuer = "https://b.test"

func newTrailMaker(t *testing.T, seed uint64) *trailMaker {
	t.Helper()
	m := &trailMaker{rnd: mrand.New(mrand.NewPCG(seed, 7)), now: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC),
		signer: map[string]jose.Signer{}}
	sign := func(name, kid string) *ecdsa.PrivateKey {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key},
			(&jose.SignerOptions{}).WithType(CheckpointType).WithHeader("kid", kid))
		if err != nil {
			t.Fatal(err)
		}
		m.signer[name] = s
		return key
	}
	k1 := sign("k1", "k1")
	sign("gone", "gone")
	sign("forged", "k1")
	m.keys = &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &k1.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}}
	return m
}

// pick returns one of choices.
func pick[T any](m *trailMaker, choices ...T) T { return choices[m.rnd.IntN(len(choices))] }

// when is an event time: mostly recent, some older than the schedule allows, a few not a time.
func (m *trailMaker) when() string {
	return pick(m,
		m.now.Add(-10*time.Second).Format(time.RFC3339Nano),
		m.now.Add(-30*time.Second).Format(time.RFC3339Nano),
		m.now.Add(-90*time.Second).Format(time.RFC3339Nano),
		m.now.Add(-5*time.Minute).Format(time.RFC3339Nano),
		m.now.Add(-3*time.Hour).Format(time.RFC3339Nano),
		m.now.Add(-3*time.Hour).In(time.FixedZone("", 2*3600)).Format(time.RFC3339Nano),
		m.now.Add(time.Hour).Format(time.RFC3339Nano),
		"not a time")
}

// sign signs claim with the named signer.
func (m *trailMaker) sign(t *testing.T, name string, claim string) string {
	t.Helper()
	obj, err := m.signer[name].Sign([]byte(claim))
	if err != nil {
		t.Fatal(err)
	}
	jws, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return jws
}

// trail builds a trail of up to 40 events, linked as it goes, with the tampering the dice pick.
func (m *trailMaker) trail(t *testing.T) []Event {
	t.Helper()
	n := m.rnd.IntN(41)
	noisy := m.rnd.IntN(3) == 0 // else checkpoints are as replicas write them, but for some far behind
	var events []Event
	hashes := []string{}
	link := func(e Event) {
		if len(hashes) > 0 {
			e.Prev = hashes[len(hashes)-1]
		}
		h, _ := Hash(e) // "" for an event that has none
		events, hashes = append(events, e), append(hashes, h)
	}
	for i := 0; i < n; i++ {
		j := len(events)
		if j == 0 || m.rnd.IntN(4) != 0 {
			link(Event{ID: fmt.Sprint("e", i), Time: m.when(), Actor: "run:x", Action: "token.issue", Space: "root", Outcome: Success})
			continue
		}
		if m.rnd.IntN(6) == 0 { // a copy of an earlier checkpoint
			var earlier []Event
			for _, e := range events {
				if e.Action == CheckpointAction {
					earlier = append(earlier, e)
				}
			}
			if len(earlier) > 0 {
				e := earlier[m.rnd.IntN(len(earlier))]
				e.ID = fmt.Sprint("copy", i)
				link(e)
				continue
			}
		}
		count := int64(pick(m, j, j, j, j-1, j-2, j/2, 0))
		if noisy {
			count = int64(pick(m, j, j-1, j-5, j/2, 0, j+1, m.rnd.IntN(j+1)))
		}
		count = max(count, 0)
		tail := ""
		if count > 0 && count <= int64(len(hashes)) {
			tail = hashes[count-1]
		}
		if noisy && m.rnd.IntN(4) == 0 {
			tail = pick(m, "", "0000000000000000000000000000000000000000000000000000000000000000")
		}
		at := pick(m, m.now.Add(-20*time.Second), m.now.Add(-2*time.Hour), m.now.Add(-50*time.Second)).Format(time.RFC3339Nano)
		eventTime := at
		if noisy && m.rnd.IntN(4) == 0 {
			eventTime = m.when()
		}
		sched := pick(m, `,"every":5,"interval":60`, `,"every":2,"interval":3600`, `,"every":50,"interval":1`, ``, `,"every":5`)
		iss := makerIssuer
		if noisy && m.rnd.IntN(8) == 0 {
			iss = "https://other.test"
		}
		claim := fmt.Sprintf(`{"iss":%q,"count":%d,"tail":%q,"time":%q%s}`, iss, count, tail, at, sched)
		signer := pick(m, "k1", "k1", "k1", "gone")
		if noisy {
			signer = pick(m, "k1", "k1", "gone", "forged")
		}
		detail := m.sign(t, signer, claim)
		if noisy && m.rnd.IntN(10) == 0 {
			detail = "not a jws"
		}
		link(Event{ID: fmt.Sprint("cp", i), Time: eventTime, Actor: CheckpointActor, Action: CheckpointAction, Space: "root", Outcome: Success, Detail: detail})
	}
	switch m.rnd.IntN(40) {
	case 0: // a link broken
		if len(events) > 1 {
			events[1+m.rnd.IntN(len(events)-1)].Prev = "0123"
		}
	case 1: // the start of the chain missing
		if len(events) > 0 {
			events = events[1:]
		}
	case 2: // an event that has no hash (not valid UTF-8), then relinked after it
		if len(events) > 0 {
			k := m.rnd.IntN(len(events))
			events[k].Detail = "\xff"
			for i := k + 1; i < len(events); i++ {
				if h, err := Hash(events[i-1]); err == nil {
					events[i].Prev = h
				}
			}
		}
	}
	return events
}

// state is a verifier's state for events: none, what a verification of a prefix saved, or one a
// broken verifier could have saved.
func (m *trailMaker) state(events []Event, cfg AnchorConfig) *State {
	switch m.rnd.IntN(4) {
	case 0:
		return nil
	case 1, 2:
		prefix := events[:m.rnd.IntN(len(events)+1)]
		r, err := refVerifyAnchored(prefix, cfg)
		if err != nil {
			r.State = State{Issuer: makerIssuer, Count: int64(len(prefix))}
			if len(prefix) > 0 {
				r.State.Tail, _ = Hash(prefix[len(prefix)-1])
			}
		}
		if m.rnd.IntN(5) == 0 && len(events) > 0 {
			r.State.Checkpoint = pick(m, events[m.rnd.IntN(len(events))].Detail, "x.y.z", "")
		}
		return &r.State
	default:
		return &State{Issuer: pick(m, makerIssuer, "https://other.test"), Count: int64(m.rnd.IntN(len(events)+3) - 1),
			Tail: pick(m, "", "00", "0000000000000000000000000000000000000000000000000000000000000000")}
	}
}

// pages lists events in pages of random sizes, counting the listings.
func (m *trailMaker) pages(events []Event, listings *int) Lister {
	return func(add func([]Event)) error {
		*listings++
		for rest := events; len(rest) > 0; {
			k := min(len(rest), 1+m.rnd.IntN(7))
			add(rest[:k])
			rest = rest[k:]
		}
		return nil
	}
}

// TestVerifyListedIsVerifyAnchoredWordForWord: on trails intact and tampered with (links broken,
// checkpoints forged, moved, copied, signed by keys gone, naming counts far behind them, events
// undated or overdue, states saved or made up), VerifyListed gives the Report and error the
// whole-trail verification gave, however few of the latest events it keeps and however the
// listing is paged, and lists a trail that does not change at most twice.
func TestVerifyListedIsVerifyAnchoredWordForWord(t *testing.T) {
	outcomes := map[string]int{}
	relisted := 0
	for seed := range uint64(1500) {
		m := newTrailMaker(t, seed)
		events := m.trail(t)
		cfg := AnchorConfig{Issuer: makerIssuer, Keys: m.keys, Now: m.now,
			Every: pick(m, int64(0), 3, 1000), Interval: pick(m, time.Duration(0), time.Minute, time.Hour)}
		cfg.State = m.state(events, cfg)
		want, wantErr := refVerifyAnchored(events, cfg)
		outcome := "ok"
		for _, class := range []error{ErrBroken, ErrForged, ErrRewritten, ErrTruncated, ErrUnanchored} {
			if errors.Is(wantErr, class) {
				outcome = class.Error()
			}
		}
		if wantErr != nil && outcome == "ok" {
			outcome = "other"
		}
		outcomes[outcome]++
		for _, recent := range []int{2, 3, 5, 64, recentEvents} {
			listings := 0
			got, err := verifyListed(m.pages(events, &listings), cfg, recent)
			if fmt.Sprint(err) != fmt.Sprint(wantErr) || !reflect.DeepEqual(got, want) {
				t.Fatalf("seed %d, keeping %d events: got %+v, %v\nwant %+v, %v", seed, recent, got, err, want, wantErr)
			}
			if listings > 2 {
				t.Errorf("seed %d, keeping %d events: %d listings of a trail that does not change", seed, recent, listings)
			}
			if listings == 2 {
				relisted++
			}
		}
	}
	for _, outcome := range []string{"ok", "other", ErrBroken.Error(), ErrForged.Error(), ErrRewritten.Error(), ErrTruncated.Error(), ErrUnanchored.Error()} {
		if outcomes[outcome] < 20 {
			t.Errorf("the trails give %q %d times, want at least 20: %v", outcome, outcomes[outcome], outcomes)
		}
	}
	if relisted < 100 {
		t.Errorf("%d verifications listed the trail again, want at least 100", relisted)
	}
	t.Logf("outcomes: %v; %d verifications listed the trail again", outcomes, relisted)
}

// TestVerifyListedPassesOnListingErrors: an error of the listing is the verification's error,
// whatever the events listed before it showed.
func TestVerifyListedPassesOnListingErrors(t *testing.T) {
	failure := fmt.Errorf("cannot reach broker")
	list := func(add func([]Event)) error {
		add([]Event{{ID: "e0", Prev: "not the start"}})
		return failure
	}
	if _, err := VerifyListed(list, AnchorConfig{Issuer: makerIssuer}); err != failure {
		t.Errorf("got %v, want the listing's error", err)
	}
}

// TestVerifyListedListsAgainForCheckpointsFarBehind: a checkpoint naming a count further behind
// it than the events kept is checked on a second listing that keeps those events; a trail that
// goes on changing so that each listing misses other events fails after maxListings.
func TestVerifyListedListsAgainForCheckpointsFarBehind(t *testing.T) {
	m := newTrailMaker(t, 1)
	var events []Event
	prev := ""
	add := func(e Event) {
		e.Prev = prev
		prev, _ = Hash(e)
		events = append(events, e)
	}
	at := m.now.Add(-20 * time.Second).Format(time.RFC3339Nano)
	for i := range 10 {
		add(Event{ID: fmt.Sprint("e", i), Time: at, Action: "token.issue"})
	}
	tail3, _ := Hash(events[2])
	add(Event{ID: "cp", Time: at, Action: CheckpointAction, Detail: m.sign(t, "k1",
		fmt.Sprintf(`{"iss":%q,"count":3,"tail":%q,"time":%q,"every":5,"interval":60}`, makerIssuer, tail3, at))})
	cfg := AnchorConfig{Issuer: makerIssuer, Keys: m.keys, Now: m.now}
	listings := 0
	r, err := verifyListed(m.pages(events, &listings), cfg, 4)
	if err != nil || listings != 2 || r.Anchored != 3 || r.Unanchored != 7 {
		t.Errorf("checkpoint 8 events behind, 4 kept: %+v, %v after %d listings; want the first 3 anchored after 2", r, err, listings)
	}

	// Each listing holds ten more events before the checkpoint, which names one more: each names
	// events the listing before did not keep.
	listings = 0
	moving := func(add func([]Event)) error {
		listings++
		var out []Event
		prev := ""
		for i := range 10 + 10*listings {
			e := Event{ID: fmt.Sprint("e", i), Time: at, Action: "token.issue", Prev: prev}
			prev, _ = Hash(e)
			out = append(out, e)
		}
		tail, _ := Hash(out[listings-1])
		cp := Event{ID: "cp", Time: at, Action: CheckpointAction, Prev: prev, Detail: m.sign(t, "k1",
			fmt.Sprintf(`{"iss":%q,"count":%d,"tail":%q,"time":%q}`, makerIssuer, listings, tail, at))}
		add(append(out, cp))
		return nil
	}
	if _, err := verifyListed(moving, cfg, 4); err == nil || listings != maxListings {
		t.Errorf("a trail changing between listings: %v after %d listings; want an error after %d", err, listings, maxListings)
	}
}
