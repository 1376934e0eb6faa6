package audittest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/issuer"
	"github.com/brokerhq/broker/internal/testutil/oidctest"
	"github.com/brokerhq/broker/keys"
)

// Tamperer writes a store's chain behind the store's back, as anyone with write access to the
// store can.
type Tamperer interface {
	// Replace makes events, exactly as given, the whole chain: each listed under root, the
	// checkpoint events also under audit.CheckpointIndex, and the tail the hash of the last.
	Replace(t *testing.T, events []audit.Event)
}

// AnchorFactory returns a fresh, empty Store and a Tamperer of it.
type AnchorFactory func(t *testing.T) (audit.Store, Tamperer)

// anchorIssuer is the issuer of the checkpoints the suite signs.
const anchorIssuer = "https://broker.test"

// signer is a signing key and the JWKS that publishes it.
type signer struct {
	key  keys.Key
	jwks *jose.JSONWebKeySet
}

func newSigner(t *testing.T) signer {
	k, err := keys.Generate(keys.ES256, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return signer{key: k, jwks: &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: k.Signer.Public(), KeyID: k.KID, Algorithm: keys.ES256, Use: "sig"}}}}
}

func (s signer) sign(typ string, payload []byte) (string, error) {
	return issuer.SignCompact(s.key, typ, payload)
}

// trail is a store holding 15 events, checkpoints at positions 5 (covering 5 events) and 11
// (covering 11), and 3 events after the last one.
type trail struct {
	store  audit.Store
	tamper Tamperer
	cp     *audit.Checkpointer
	signer signer
	events []audit.Event
	// listed is when verify says the trail was listed: a minute after its events, within the
	// checkpointer's hour, unless a test moves it.
	listed time.Time
}

func newTrail(t *testing.T, newStore AnchorFactory) *trail {
	ctx := context.Background()
	store, tamper := newStore(t)
	tr := &trail{store: store, tamper: tamper, signer: newSigner(t), listed: time.Date(2026, 1, 1, 0, 1, 0, 0, time.UTC)}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var err error
	tr.cp, err = tr.checkpointer(func() time.Time { now = now.Add(time.Second); return now }, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{5, 5, 3} {
		tr.append(t, n)
		wrote, err := tr.cp.Check(ctx)
		if err != nil || wrote != (n == 5) {
			t.Fatalf("after %d events: checkpoint written %v, %v; want %v", n, wrote, err, n == 5)
		}
	}
	tr.events = tr.list(t)
	if len(tr.events) != 15 || tr.events[5].Action != audit.CheckpointAction || tr.events[11].Action != audit.CheckpointAction {
		t.Fatalf("trail of %d events; want 15 with checkpoints at 5 and 11", len(tr.events))
	}
	return tr
}

// checkpointer returns a Checkpointer of the trail's store on the clock now, signing with the
// trail's key, trusting a checkpoint in the store when it verifies with keys (nil: none).
func (tr *trail) checkpointer(now func() time.Time, keys audit.PublishedKeys) (*audit.Checkpointer, error) {
	return audit.NewCheckpointer(audit.CheckpointConfig{
		Store: tr.store, Issuer: anchorIssuer, Space: "root", Every: 5, Interval: time.Hour, Now: now, Keys: keys,
		Sign: func(_ context.Context, payload []byte) (string, error) {
			return tr.signer.sign(audit.CheckpointType, payload)
		},
	})
}

// peer returns another replica's Checkpointer of the trail's store, started at the listing's
// time and trusting the checkpoints its key set verifies.
func (tr *trail) peer(t *testing.T) *audit.Checkpointer {
	now := tr.listed
	cp, err := tr.checkpointer(func() time.Time { now = now.Add(time.Second); return now },
		func() *jose.JSONWebKeySet { return tr.signer.jwks })
	if err != nil {
		t.Fatal(err)
	}
	return cp
}

// append appends n events through the Checkpointer.
func (tr *trail) append(t *testing.T, n int) {
	for i := 0; i < n; i++ {
		e := audit.Event{ID: fmt.Sprintf("ev-%d-%d", time.Now().UnixNano(), i), Time: "2026-01-01T00:00:00Z", Actor: "run:r",
			Action: "token.issue", Space: "prod", Stack: "s", Run: "r", Outcome: audit.Success, Detail: "scope read"}
		if _, err := tr.cp.Append(context.Background(), e, []string{"prod", "root"}); err != nil {
			t.Fatal(err)
		}
	}
}

func (tr *trail) list(t *testing.T) []audit.Event {
	var all []audit.Event
	cursor := ""
	for {
		page, next, err := tr.store.List(context.Background(), "root", cursor, 4)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if next == "" {
			return all
		}
		cursor = next
	}
}

// replace rechains events (each prev the hash of the one before) and makes them the store's
// chain, as someone who can write the store but not sign would.
func (tr *trail) replace(t *testing.T, events []audit.Event) {
	out := make([]audit.Event, len(events))
	prev := ""
	for i, e := range events {
		e.Prev = prev
		h, err := audit.Hash(e)
		if err != nil {
			t.Fatal(err)
		}
		out[i], prev = e, h
	}
	tr.tamper.Replace(t, out)
}

func (tr *trail) verify(t *testing.T, state *audit.State) (audit.Report, error) {
	return audit.VerifyAnchored(tr.list(t), audit.AnchorConfig{Issuer: anchorIssuer, Keys: tr.signer.jwks, State: state, Now: tr.listed})
}

// withCheckpoint returns events with the checkpoint at position at given the JWS jws.
func withCheckpoint(events []audit.Event, at int, jws string) []audit.Event {
	out := append([]audit.Event(nil), events...)
	out[at].Detail = jws
	return out
}

// TestAnchoring checks checkpoints and VerifyAnchored on a store: an intact trail verifies and
// says which events are anchored; rewriting every event with recomputed links, removing events,
// or forging a checkpoint is found, each with its own error; what no checkpoint can show (the
// removal of the events after the last one) is found with the verifier's saved state.
func TestAnchoring(t *testing.T, newStore AnchorFactory) {
	t.Run("intact", func(t *testing.T) {
		tr := newTrail(t, newStore)
		r, err := tr.verify(t, nil)
		if err != nil {
			t.Fatal(err)
		}
		if r.Events != 15 || r.Verified != 2 || r.Anchored != 11 || r.Latest == nil || r.Latest.At != 11 || r.Unanchored != 3 || len(r.Unverifiable) != 0 {
			t.Errorf("report %+v; want 15 events, 2 checkpoints, the first 11 anchored by #12, 3 unanchored", r)
		}
		if r.Latest != nil && (r.Latest.KID != tr.signer.key.KID || r.Latest.Claim.Issuer != anchorIssuer) {
			t.Errorf("latest checkpoint %+v", r.Latest)
		}
		if r.State.Count != 15 || r.State.Checkpoint != tr.events[11].Detail || r.State.Issuer != anchorIssuer {
			t.Errorf("state %+v", r.State)
		}
		// Two more events, then a verification against the saved state: still intact.
		tr.append(t, 2)
		r2, err := tr.verify(t, &r.State)
		if err != nil || r2.Unanchored != 5 || r2.State.Count != 17 || r2.State.Checkpoint != r.State.Checkpoint {
			t.Errorf("with state, 2 events later: %+v, %v", r2, err)
		}
	})

	t.Run("every event rewritten with recomputed links", func(t *testing.T) {
		tr := newTrail(t, newStore)
		forged := append([]audit.Event(nil), tr.events...)
		for i := range forged {
			if forged[i].Action != audit.CheckpointAction {
				forged[i].Detail = "scope write"
			}
		}
		tr.replace(t, forged)
		if err := audit.Verify(tr.list(t)); err != nil {
			t.Fatalf("the forged chain's links do not hold, so the test proves nothing: %v", err)
		}
		if _, err := tr.verify(t, nil); !errors.Is(err, audit.ErrRewritten) {
			t.Errorf("rewritten trail: %v, want ErrRewritten", err)
		}
	})

	t.Run("only the unanchored events rewritten", func(t *testing.T) {
		tr := newTrail(t, newStore)
		r, err := tr.verify(t, nil)
		if err != nil {
			t.Fatal(err)
		}
		forged := append([]audit.Event(nil), tr.events...)
		forged[13].Detail = "scope write"
		tr.replace(t, forged)
		if _, err := tr.verify(t, nil); err != nil {
			t.Errorf("without state the unanchored events can change unnoticed, got %v", err)
		}
		if _, err := tr.verify(t, &r.State); !errors.Is(err, audit.ErrRewritten) {
			t.Errorf("with state: %v, want ErrRewritten", err)
		}
	})

	t.Run("an event removed before a checkpoint", func(t *testing.T) {
		tr := newTrail(t, newStore)
		forged := append(append([]audit.Event(nil), tr.events[:7]...), tr.events[8:]...)
		tr.replace(t, forged)
		if _, err := tr.verify(t, nil); !errors.Is(err, audit.ErrTruncated) {
			t.Errorf("event removed: %v, want ErrTruncated", err)
		}
	})

	t.Run("an event inserted before a checkpoint", func(t *testing.T) {
		tr := newTrail(t, newStore)
		forged := append(append(append([]audit.Event(nil), tr.events[:8]...), tr.events[2]), tr.events[8:]...)
		tr.replace(t, forged)
		if _, err := tr.verify(t, nil); !errors.Is(err, audit.ErrRewritten) {
			t.Errorf("event inserted: %v, want ErrRewritten", err)
		}
	})

	t.Run("last events popped", func(t *testing.T) {
		for _, pop := range []int{2, 4, 6} { // after the last checkpoint; it too; and an anchored event
			t.Run(fmt.Sprint(pop), func(t *testing.T) {
				tr := newTrail(t, newStore)
				r, err := tr.verify(t, nil)
				if err != nil {
					t.Fatal(err)
				}
				tr.replace(t, tr.events[:len(tr.events)-pop])
				if _, err := tr.verify(t, &r.State); !errors.Is(err, audit.ErrTruncated) {
					t.Errorf("%d events popped, with state: %v, want ErrTruncated", pop, err)
				}
				// Without state, nothing in the store shows it: the report says how much is anchored.
				r2, err := tr.verify(t, nil)
				if wantAnchored := map[int]int64{2: 11, 4: 5, 6: 5}[pop]; err != nil || r2.Anchored != wantAnchored {
					t.Errorf("%d popped, without state: anchored %d, %v; want %d", pop, r2.Anchored, err, wantAnchored)
				}
			})
		}
	})

	t.Run("forged checkpoints", func(t *testing.T) {
		tr := newTrail(t, newStore)
		claim := fmt.Sprintf(`{"iss":%q,"count":11,"tail":%q,"time":%q}`, anchorIssuer, tr.events[11].Prev, tr.events[11].Time)
		other := newSigner(t)
		other.key.KID = tr.signer.key.KID // another key under the published kid
		badSig, err := other.sign(audit.CheckpointType, []byte(claim))
		if err != nil {
			t.Fatal(err)
		}
		token, _ := tr.signer.sign("JWT", []byte(claim))
		foreign, _ := tr.signer.sign(audit.CheckpointType, []byte(strings.Replace(claim, anchorIssuer, "https://other.test", 1)))
		general, flattened := oidctest.JSONSerialized(t, tr.events[11].Detail) // the genuine checkpoint
		for name, jws := range map[string]string{"bad signature": badSig, "not a checkpoint": token, "other issuer": foreign, "not a JWS": "x.y.z",
			"the checkpoint in the general JSON serialization": general, "the checkpoint in the flattened JSON serialization": flattened} {
			tr.replace(t, withCheckpoint(tr.events, 11, jws))
			if _, err := tr.verify(t, nil); !errors.Is(err, audit.ErrForged) {
				t.Errorf("%s: %v, want ErrForged", name, err)
			}
		}
	})

	t.Run("forged checkpoints of the published key", func(t *testing.T) { testForgedByThePublishedKey(t, newStore) })

	t.Run("unanchored events at the schedule's age bound", func(t *testing.T) { testScheduleAgeBound(t, newStore) })

	t.Run("checkpoint by a key no longer published", func(t *testing.T) {
		tr := newTrail(t, newStore)
		claim := fmt.Sprintf(`{"iss":%q,"count":11,"tail":%q,"time":%q}`, anchorIssuer, tr.events[11].Prev, tr.events[11].Time)
		retired, _ := newSigner(t).sign(audit.CheckpointType, []byte(claim))
		tr.replace(t, withCheckpoint(tr.events, 11, retired))
		r, err := tr.verify(t, nil)
		if err != nil {
			t.Fatalf("a checkpoint by an unpublished key is not tampering: %v", err)
		}
		if len(r.Unverifiable) != 1 || r.Unverifiable[0].At != 11 || r.Anchored != 5 || r.Latest == nil || r.Latest.At != 5 || r.Unanchored != 9 {
			t.Errorf("report %+v; want #12 unverifiable and the first 5 events anchored by #6", r)
		}
		// Past the checkpoint schedule, a replica would have anchored those events again.
		tr.listed = tr.listed.Add(2 * time.Hour)
		if _, err := tr.verify(t, nil); !errors.Is(err, audit.ErrUnanchored) {
			t.Errorf("two hours later: %v, want ErrUnanchored", err)
		}
	})

	// A store writer who cannot sign rewrites an anchored event and recomputes the links, then
	// removes every checkpoint covering it, or replaces their signatures with its own: once the
	// schedule says a checkpoint must cover the event, the trail is not anchored.
	t.Run("an anchored event rewritten, its checkpoints removed or re-signed", func(t *testing.T) {
		for _, how := range []string{"removed", "re-signed"} {
			t.Run(how, func(t *testing.T) {
				tr := newTrail(t, newStore)
				var forged []audit.Event
				for i, e := range tr.events {
					if e.Action == audit.CheckpointAction && how == "removed" {
						continue
					}
					if i == 3 {
						e.Detail = "scope write"
					}
					forged = append(forged, e)
				}
				tr.replace(t, forged)
				if how == "re-signed" {
					mine := newSigner(t)
					forged = tr.list(t)
					for i, e := range forged {
						if e.Action == audit.CheckpointAction {
							claim := fmt.Sprintf(`{"iss":%q,"count":%d,"tail":%q,"time":%q,"every":5,"interval":3600}`, anchorIssuer, i, e.Prev, e.Time)
							forged[i].Detail, _ = mine.sign(audit.CheckpointType, []byte(claim))
						}
					}
					tr.replace(t, forged)
				}
				if _, err := tr.verify(t, nil); err != nil {
					t.Errorf("within the schedule the tampering cannot show yet, got %v", err)
				}
				tr.listed = tr.listed.Add(2 * time.Hour)
				if _, err := tr.verify(t, nil); !errors.Is(err, audit.ErrUnanchored) {
					t.Errorf("two hours later: %v, want ErrUnanchored", err)
				}
			})
		}
	})

	t.Run("more events unanchored than the schedule allows", func(t *testing.T) {
		tr := newTrail(t, newStore)
		tr.append(t, 8) // 11 after the last checkpoint, which says every 5
		// Within the last minute they may be a burst appended while a checkpoint is signed.
		if _, err := tr.verify(t, nil); err != nil {
			t.Errorf("11 events of the last minute after a checkpoint of every 5: %v, want them taken for a burst", err)
		}
		tr.listed = tr.listed.Add(time.Minute)
		if _, err := tr.verify(t, nil); !errors.Is(err, audit.ErrUnanchored) {
			t.Errorf("11 events older than a minute after a checkpoint of every 5: %v, want ErrUnanchored", err)
		}
	})

	// Events dated ahead of the listing: a replica's clock may run ahead, and a long listing
	// reaches events appended after it began, but one dated more than an hour past the
	// schedule's bound is taken as undated, or a store writer could date the events after a
	// removed checkpoint out of the schedule's reach.
	t.Run("unanchored events dated ahead", func(t *testing.T) {
		for _, tc := range []struct {
			ahead time.Duration
			want  error
		}{{time.Minute, nil}, {time.Hour, nil}, {2 * time.Hour, nil}, {3 * time.Hour, audit.ErrUnanchored}, {24 * time.Hour, audit.ErrUnanchored}} {
			t.Run(tc.ahead.String(), func(t *testing.T) {
				tr := newTrail(t, newStore)
				forged := append([]audit.Event(nil), tr.events...)
				for i := 12; i < len(forged); i++ {
					forged[i].Time = tr.listed.Add(tc.ahead).Format(time.RFC3339Nano)
				}
				tr.replace(t, forged)
				if _, err := tr.verify(t, nil); !errors.Is(err, tc.want) {
					t.Errorf("3 unanchored events dated %s ahead: %v, want %v", tc.ahead, err, tc.want)
				}
			})
		}
	})

	// A store writer who cannot sign removes an anchored event and the checkpoints covering
	// it, and recomputes the links: a replica's checkpointer, running on or restarted, must
	// not sign a checkpoint over that chain, which would anchor the forgery.
	t.Run("no checkpoint signed over a changed chain", func(t *testing.T) {
		for _, restarted := range []bool{false, true} {
			t.Run(map[bool]string{false: "running", true: "restarted"}[restarted], func(t *testing.T) {
				tr := newTrail(t, newStore)
				var forged []audit.Event
				for i, e := range tr.events {
					if i == 2 || e.Action == audit.CheckpointAction && (!restarted || i < 11) {
						continue // the restarted replica finds the latest checkpoint, which verifies
					}
					forged = append(forged, e)
				}
				tr.replace(t, forged)
				if restarted {
					tr.cp = tr.peer(t)
				}
				tr.append(t, 5)
				wrote, err := tr.cp.Check(context.Background())
				if wrote || !errors.Is(err, audit.ErrNotExtended) {
					t.Fatalf("checkpoint over the changed chain: written %v, %v; want none, ErrNotExtended", wrote, err)
				}
				for _, e := range tr.list(t)[len(forged):] {
					if e.Action == audit.CheckpointAction {
						t.Fatalf("a checkpoint was appended over the changed chain")
					}
				}
			})
		}
	})

	// A replica that signs rarely (its peers sign first) follows what they anchor: a store
	// writer who removes an event only a peer's newest checkpoint covers, with that checkpoint,
	// and recomputes the links, gets no checkpoint from it either.
	t.Run("no checkpoint signed over a rewrite a peer anchored", func(t *testing.T) {
		tr := newTrail(t, newStore)
		peer := tr.peer(t)
		ctx := context.Background()
		if wrote, err := peer.Check(ctx); wrote || err != nil {
			t.Fatalf("the peer's first check: written %v, %v; want nothing due", wrote, err)
		}
		tr.append(t, 5)
		if wrote, err := tr.cp.Check(ctx); !wrote || err != nil {
			t.Fatalf("checkpoint over 20 events: written %v, %v", wrote, err)
		}
		if wrote, err := peer.Check(ctx); wrote || err != nil {
			t.Fatalf("the peer's check after it: written %v, %v; want nothing due", wrote, err)
		}
		all := tr.list(t)
		var forged []audit.Event
		for i, e := range all {
			if i != 16 && i != 20 { // an event only the newest checkpoint covers, and that checkpoint
				forged = append(forged, e)
			}
		}
		tr.replace(t, forged)
		tr.cp = peer
		tr.append(t, 5)
		if wrote, err := peer.Check(ctx); wrote || !errors.Is(err, audit.ErrNotExtended) {
			t.Fatalf("the peer's checkpoint over the changed chain: written %v, %v; want none, ErrNotExtended", wrote, err)
		}
	})

	// A replica that refused a rewrite does not take it from a peer started after it, which
	// found no checkpoint and anchored the chain as it stood.
	t.Run("a refused rewrite not taken from a peer", func(t *testing.T) {
		tr := newTrail(t, newStore)
		ctx := context.Background()
		a := tr.peer(t)
		if wrote, err := a.Check(ctx); wrote || err != nil {
			t.Fatalf("the replica's first check: written %v, %v; want nothing due", wrote, err)
		}
		var forged []audit.Event
		for i, e := range tr.events {
			if e.Action == audit.CheckpointAction {
				continue
			}
			if i == 2 {
				e.Detail = "scope write"
			}
			forged = append(forged, e)
		}
		tr.replace(t, forged)
		tr.cp = a
		tr.append(t, 5)
		if wrote, err := a.Check(ctx); wrote || !errors.Is(err, audit.ErrNotExtended) {
			t.Fatalf("over the rewrite: written %v, %v; want none, ErrNotExtended", wrote, err)
		}
		if wrote, err := tr.peer(t).Check(ctx); !wrote || err != nil {
			t.Fatalf("the peer started after it: written %v, %v; want the documented checkpoint", wrote, err)
		}
		tr.append(t, 5)
		if wrote, err := a.Check(ctx); wrote || !errors.Is(err, audit.ErrNotExtended) {
			t.Fatalf("after the peer's checkpoint: written %v, %v; want none, ErrNotExtended", wrote, err)
		}
	})

	// Nor does a replica take it from a peer that started after the writer removed the
	// replica's own newest checkpoint and rewrote an event only that checkpoint covered; the
	// peer, finding more events after the checkpoint it trusts than the schedule allows, records
	// an audit.late_anchor event before it signs over them.
	t.Run("a rewrite of what it anchored not taken from a peer", func(t *testing.T) {
		tr := newTrail(t, newStore)
		ctx := context.Background()
		a := tr.peer(t)
		tr.cp = a
		tr.append(t, 5)
		if wrote, err := a.Check(ctx); !wrote || err != nil {
			t.Fatalf("the replica's checkpoint over 20 events: written %v, %v", wrote, err)
		}
		var forged []audit.Event
		for i, e := range tr.list(t) {
			if i == 20 {
				continue // its checkpoint
			}
			if i == 16 {
				e.Detail = "scope write"
			}
			forged = append(forged, e)
		}
		tr.replace(t, forged)
		b := tr.peer(t)
		tr.cp = b
		tr.append(t, 6)
		if wrote, err := b.Check(ctx); !wrote || err != nil {
			t.Fatalf("the peer started after it: written %v, %v; want the documented checkpoint", wrote, err)
		}
		late := 0
		for _, e := range tr.list(t) {
			if e.Action == audit.LateAnchorAction {
				late++
			}
		}
		if late != 1 {
			t.Fatalf("the peer anchored events a verifier rejected with %d late-anchor events, want 1", late)
		}
		tr.cp = a
		tr.append(t, 5)
		if wrote, err := a.Check(ctx); wrote || !errors.Is(err, audit.ErrNotExtended) {
			t.Fatalf("after the peer's checkpoint: written %v, %v; want none, ErrNotExtended", wrote, err)
		}
	})

	// The same checks let the checkpointers of an intact chain sign: one restarted trusts the
	// latest checkpoint, and one whose key set no longer verifies it checks the whole chain.
	t.Run("checkpoints go on over an intact chain", func(t *testing.T) {
		for _, name := range []string{"running", "restarted", "restarted, key unverified"} {
			t.Run(name, func(t *testing.T) {
				tr := newTrail(t, newStore)
				var keys audit.PublishedKeys
				switch name {
				case "restarted":
					keys = func() *jose.JSONWebKeySet { return tr.signer.jwks }
				case "restarted, key unverified":
					keys = func() *jose.JSONWebKeySet { return &jose.JSONWebKeySet{} }
				}
				if keys != nil {
					now := tr.listed
					cp, err := tr.checkpointer(func() time.Time { now = now.Add(time.Second); return now }, keys)
					if err != nil {
						t.Fatal(err)
					}
					tr.cp = cp
				}
				tr.append(t, 5)
				if wrote, err := tr.cp.Check(context.Background()); !wrote || err != nil {
					t.Fatalf("checkpoint over the intact chain: written %v, %v", wrote, err)
				}
				if _, err := tr.verify(t, nil); err != nil {
					t.Errorf("verify: %v", err)
				}
			})
		}
	})
}

// testForgedByThePublishedKey checks more checkpoints that must not verify: a JWS naming no kid
// (signed by the published key: a verifier must not take it for a checkpoint of a retired key),
// a claim of a negative count (signed by the published key), and any checkpoint when the
// published key is for encryption or for another algorithm.
func testForgedByThePublishedKey(t *testing.T, newStore AnchorFactory) {
	t.Run("no kid", func(t *testing.T) {
		tr := newTrail(t, newStore)
		claim := fmt.Sprintf(`{"iss":%q,"count":11,"tail":%q,"time":%q,"every":5,"interval":3600}`, anchorIssuer, tr.events[11].Prev, tr.events[11].Time)
		kidless := tr.signer
		kidless.key.KID = ""
		jws, err := kidless.sign(audit.CheckpointType, []byte(claim))
		if err != nil {
			t.Fatal(err)
		}
		tr.replace(t, withCheckpoint(tr.events, 11, jws))
		if r, err := tr.verify(t, nil); !errors.Is(err, audit.ErrForged) {
			t.Errorf("a checkpoint naming no kid: %v (unverifiable %d), want ErrForged", err, len(r.Unverifiable))
		}
	})
	t.Run("negative count", func(t *testing.T) {
		tr := newTrail(t, newStore)
		claim := fmt.Sprintf(`{"iss":%q,"count":-1,"tail":"","time":%q,"every":5,"interval":3600}`, anchorIssuer, tr.events[11].Time)
		jws, err := tr.signer.sign(audit.CheckpointType, []byte(claim))
		if err != nil {
			t.Fatal(err)
		}
		tr.replace(t, withCheckpoint(tr.events, 11, jws))
		if _, err := tr.verify(t, nil); !errors.Is(err, audit.ErrForged) {
			t.Errorf("a checkpoint of count -1: %v, want ErrForged", err)
		}
	})
	for name, edit := range map[string]func(*jose.JSONWebKey){
		"key published for encryption":        func(k *jose.JSONWebKey) { k.Use = "enc" },
		"key published for another algorithm": func(k *jose.JSONWebKey) { k.Algorithm = "ES384" },
	} {
		t.Run(name, func(t *testing.T) {
			tr := newTrail(t, newStore)
			k := tr.signer.jwks.Keys[0]
			edit(&k)
			_, err := audit.VerifyAnchored(tr.list(t), audit.AnchorConfig{Issuer: anchorIssuer,
				Keys: &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{k}}, Now: tr.listed})
			if !errors.Is(err, audit.ErrForged) {
				t.Errorf("%s: %v, want ErrForged", name, err)
			}
		})
	}
}

// testScheduleAgeBound checks the bound VerifyAnchored holds unanchored events to: an event
// after the latest checkpoint may be as old as the interval and a quarter plus a minute (a
// replica looks every quarter interval) without ErrUnanchored, and no older.
func testScheduleAgeBound(t *testing.T, newStore AnchorFactory) {
	// The trail's checkpoints sign interval 1h: its 3 unanchored events (of 00:00:00) may be
	// 1h16m old. 1h11m is within; 1h20m is not.
	for _, tc := range []struct {
		age  time.Duration
		want bool // anchored
	}{{71 * time.Minute, true}, {80 * time.Minute, false}} {
		t.Run(tc.age.String(), func(t *testing.T) {
			tr := newTrail(t, newStore)
			tr.listed = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(tc.age)
			_, err := tr.verify(t, nil)
			if (err == nil) != tc.want {
				t.Errorf("3 unanchored events %s old after a checkpoint of interval 1h: %v, want anchored %v", tc.age, err, tc.want)
			}
		})
	}
}
