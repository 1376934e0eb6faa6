package audit

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/oklog/ulid/v2"
)

// ErrNotExtended: the chain in the store no longer extends the prefix a Checkpointer last
// anchored or checked, so it signs no checkpoint over it. Someone who can write the store
// but not sign removed, changed or reordered events and rewrote the links after them; or the
// store lost events it had acknowledged (a Redis failover to a replica that had not received
// them).
var ErrNotExtended = errors.New("the audit chain in the store no longer extends the one this replica last anchored")

// guardPage is how many events a Checkpointer lists at once while it checks the chain. A page
// of a Redis trail takes about a millisecond of CPU to decode and hash (10 µs an event), after
// which the check yields its core to the token path (runtime.Gosched): the check never holds
// one for long.
const guardPage = 100

// prefix is a leading part of the chain: its first count events, the last of which hashes to
// tail ("" when count is 0).
type prefix struct {
	count int64
	tail  string
}

// processLocal is a Store held in the replica's own memory (Memory): whoever can change its
// events can read the signing keys beside them, so a Checkpointer does not check it (and its
// oldest events are dropped, which a check would take for removed).
type processLocal interface {
	processLocal()
}

// follow keeps the prefix this Checkpointer trusts current with head, at every check whether
// or not a checkpoint is due, for a store others may write (Redis): on the first check the one
// startTrust finds; later, the one the latest checkpoint in the store covers, once it verifies
// with the keys cfg.Keys returns, covers more, and the chain up to it still extends the prefix
// trusted (another replica's checkpoint: this one checks each event once, whoever signs). A
// replica that signs rarely so knows what its peers anchored, and finds a rewrite of it. The
// caller holds c.mu.
func (c *Checkpointer) follow(ctx context.Context, head Head, now time.Time) error {
	if c.trusted == nil {
		start, err := c.startTrust(ctx, head, now)
		if err != nil {
			return err
		}
		c.trusted, c.followed = &start, checkpointID(head)
		return nil
	}
	if head.Checkpoint == nil || head.Checkpoint.ID == c.followed {
		return nil
	}
	claim, err := c.latestClaim(head) // nil when it does not verify: it anchors nothing
	if err != nil {
		return err
	}
	if claim != nil && claim.Count > c.trusted.count {
		// Only over a chain that extends what this replica trusts: a peer that started after a
		// rewrite (see startTrust) signs over it, and following it would anchor it here too.
		if err := c.extends(ctx, *c.trusted, Head{Count: claim.Count, Tail: claim.Tail}); err != nil {
			return err
		}
		c.trusted = &prefix{count: claim.Count, tail: claim.Tail}
	}
	c.followed = head.Checkpoint.ID
	return nil
}

// checkpointID is the id of head's latest checkpoint, "" when none.
func checkpointID(head Head) string {
	if head.Checkpoint == nil {
		return ""
	}
	return head.Checkpoint.ID
}

// guard checks, before a checkpoint over head is signed, that the chain of a store others may
// write (Redis) still extends the prefix this Checkpointer trusts (see follow): the events from
// the prefix's end to head, listed under cfg.Space, link up from its tail, and the last one
// hashes to head.Tail. Once they do, it trusts head. A checkpoint signed over a chain that fails
// the check would anchor whatever a store writer made of it; refused, the events stay
// unanchored and a verifier says so. The caller holds c.mu, and called follow with head.
func (c *Checkpointer) guard(ctx context.Context, head Head) error {
	if err := c.extends(ctx, *c.trusted, head); err != nil {
		return err
	}
	c.trusted = &prefix{count: head.Count, tail: head.Tail}
	return nil
}

// extends checks that the events at positions from.count to head.Count-1 link up from
// from.tail and end in head.Tail, failing with ErrNotExtended when they do not (the positions
// named, no content), or with the store's error when it cannot list them.
func (c *Checkpointer) extends(ctx context.Context, from prefix, head Head) error {
	if head.Count < from.count {
		return fmt.Errorf("%w: it holds %d events, %d of them were checked before", ErrNotExtended, head.Count, from.count)
	}
	pos, prev := from.count, from.tail
	for pos < head.Count {
		page, _, err := c.cfg.Store.List(ctx, c.cfg.Space, strconv.FormatInt(pos, 10), int(min(head.Count-pos, guardPage)))
		if err != nil {
			return fmt.Errorf("audit: list the chain from position %d to check it: %w", pos, err)
		}
		if len(page) == 0 {
			return fmt.Errorf("%w: events %d to %d are missing", ErrNotExtended, pos, head.Count-1)
		}
		for i := range page {
			if page[i].Prev != prev {
				return fmt.Errorf("%w: the event at position %d does not follow the one before it", ErrNotExtended, pos)
			}
			h, err := Hash(page[i])
			if err != nil {
				return fmt.Errorf("%w: the event at position %d cannot be hashed: %w", ErrNotExtended, pos, err)
			}
			prev = h
			pos++
		}
		runtime.Gosched()
	}
	if prev != head.Tail {
		return fmt.Errorf("%w: its last event, at position %d, is not the chain's tail", ErrNotExtended, head.Count-1)
	}
	return nil
}

// startTrust is the prefix a Checkpointer trusts before it has checked any: the one the
// latest checkpoint in the store covers, when it verifies (see latestClaim), after recording it
// when the events after it break the schedule a verifier holds them to at now (see onSchedule);
// otherwise none, and the chain is checked from its first event.
func (c *Checkpointer) startTrust(ctx context.Context, head Head, now time.Time) (prefix, error) {
	if head.Checkpoint == nil && head.Count > 2*c.cfg.Every {
		c.cfg.Logger.Warn("audit: the chain holds no checkpoint, though it is longer than the checkpoint schedule allows: checkpoints may have been removed; this replica anchors the chain as it finds it",
			"events", head.Count)
	}
	claim, err := c.latestClaim(head)
	if err != nil || claim == nil {
		return prefix{}, err
	}
	if err := c.onSchedule(ctx, head, *claim, now); err != nil {
		if !errors.Is(err, ErrNotExtended) {
			return prefix{}, err
		}
		if err := c.recordLateAnchor(ctx, err, now); err != nil {
			return prefix{}, err
		}
	}
	return prefix{count: claim.Count, tail: claim.Tail}, nil
}

// LateAnchorAction is the action of the event a starting replica appends before it anchors
// events a verifier rejects (see onSchedule).
const LateAnchorAction = "audit.late_anchor"

// recordLateAnchor logs why (the events after the latest checkpoint break the verifier's
// schedule) and appends a LateAnchorAction event saying so, before this replica anchors them:
// checkpoints after the latest one were removed, perhaps to hide a rewrite, or every replica
// stopped before signing them. Refusing to sign would leave the trail unanchored for good after
// an ordinary stop; signed, the trail verifies, and the event, anchored with it, tells its
// readers (GET /v1/audit, the sinks, broker audit verify) which events were anchored late.
func (c *Checkpointer) recordLateAnchor(ctx context.Context, why error, now time.Time) error {
	c.cfg.Logger.ErrorContext(ctx, "audit: anchoring events a verifier rejects: checkpoints may have been removed from the store (a rewrite), or every replica stopped before signing them; recorded as "+LateAnchorAction,
		"err", why)
	e := Event{ID: ulid.Make().String(), Time: now.UTC().Format(time.RFC3339Nano), Actor: CheckpointActor, Action: LateAnchorAction,
		Space: c.cfg.Space, Outcome: Success, Detail: why.Error()}
	if _, err := c.cfg.Store.Append(ctx, e, []string{c.cfg.Space}); err != nil {
		return fmt.Errorf("audit: record events anchored late: %w", err)
	}
	c.lateAnchored = true
	return nil
}

// onSchedule checks the events after the latest checkpoint in the store (claim, which verifies)
// as a verifier listing the chain at now does (cadence): when more of them, or older ones, follow
// it than the schedule allows, checkpoints after it were removed or their signatures replaced,
// perhaps to hide a rewrite of the events they covered, which the links alone no longer show,
// or every replica stopped before signing them. That fails with ErrNotExtended, naming the
// positions, for startTrust to record before it anchors them (see recordLateAnchor).
func (c *Checkpointer) onSchedule(ctx context.Context, head Head, claim Checkpoint, now time.Time) error {
	late := newCadence(claim.Count, &Anchor{Claim: claim}, AnchorConfig{Now: now})
	settled := settledAt(now)
	ahead := int64(-1) // the first event dated past now and the skew replicas' clocks may have
	// A checkpoint follows an event within allowed of the last one, whoever runs: an event dated
	// later than that after the checkpoint claim signs was left unsigned (every replica stopped)
	// or its checkpoint removed, however near now it is dated.
	signed, _ := time.Parse(time.RFC3339Nano, claim.Time)
	overdue := int64(-1)
	allowed := late.interval + late.interval/4 + anchorSlack
	for pos := claim.Count; pos < head.Count; {
		page, _, err := c.cfg.Store.List(ctx, c.cfg.Space, strconv.FormatInt(pos, 10), int(min(head.Count-pos, guardPage)))
		if err != nil {
			return fmt.Errorf("audit: list the chain from position %d to check it: %w", pos, err)
		}
		if len(page) == 0 {
			break // missing events: the check of the links finds them (see extends)
		}
		for i := range page {
			s := newSeen(&page[i])
			s.checkpoint = pos == head.CheckpointAt // the checkpoint itself is no event to anchor
			late.add(&s, pos, settled)
			if t, err := time.Parse(time.RFC3339Nano, page[i].Time); err == nil && !s.checkpoint {
				if ahead < 0 && t.After(now.Add(aheadSkew)) {
					ahead = pos
				}
				if overdue < 0 && !signed.IsZero() && t.After(signed.Add(allowed)) {
					overdue = pos
				}
			}
			pos++
		}
		runtime.Gosched()
	}
	if err := late.check(); err != nil {
		return fmt.Errorf("%w: the events at positions %d to %d follow the latest checkpoint in the store (position %d, covering %d events), and a verifier rejects them: %w",
			ErrNotExtended, claim.Count, head.Count-1, head.CheckpointAt, claim.Count, err)
	}
	// An event dated ahead of every clock a replica may have cannot be told old: dated so, the
	// events after a removed checkpoint would pass the schedule.
	if ahead >= 0 {
		return fmt.Errorf("%w: the events at positions %d to %d follow the latest checkpoint in the store (position %d, covering %d events), and the one at position %d is dated more than %s ahead of this replica's clock",
			ErrNotExtended, claim.Count, head.Count-1, head.CheckpointAt, claim.Count, ahead, aheadSkew)
	}
	if overdue >= 0 {
		return fmt.Errorf("%w: the events at positions %d to %d follow the latest checkpoint in the store (position %d, covering %d events, signed %s), and the one at position %d is dated more than %s after it, with no checkpoint since",
			ErrNotExtended, claim.Count, head.Count-1, head.CheckpointAt, claim.Count, claim.Time, overdue, allowed)
	}
	return nil
}

// latestClaim is the claim of head's latest checkpoint when it verifies with the keys cfg.Keys
// returns; nil when there is none, cfg.Keys is nil, or it does not verify (logged). One that
// verifies but covers more events than precede it in the chain fails with ErrNotExtended:
// events it covers were removed.
func (c *Checkpointer) latestClaim(head Head) (*Checkpoint, error) {
	if head.Checkpoint == nil || c.cfg.Keys == nil {
		return nil, nil
	}
	_, claim, err := verifyCheckpoint(head.Checkpoint.Detail, AnchorConfig{Issuer: c.cfg.Issuer, Keys: c.cfg.Keys()})
	if err != nil {
		c.cfg.Logger.Warn("audit: the latest checkpoint in the store does not verify: it anchors nothing",
			"checkpoint_position", head.CheckpointAt, "err", err)
		return nil, nil
	}
	if claim.Count > head.CheckpointAt || claim.Count > 0 && claim.Tail == "" {
		return nil, fmt.Errorf("%w: the latest checkpoint, at position %d, covers %d events", ErrNotExtended, head.CheckpointAt, claim.Count)
	}
	return &claim, nil
}

// PublishedKeys returns the issuer's JWKS as it publishes it now.
type PublishedKeys func() *jose.JSONWebKeySet
