package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/brokerhq/broker/internal/runs"
)

// Checkpoint events. A checkpoint is an event of the chain whose detail is a compact JWS, signed
// with broker's current signing key and verifiable with its JWKS, of the claim Checkpoint: the
// chain's first Count events end in the hash Tail. Whoever can write the store but not sign
// cannot rewrite or drop those events without a checkpoint, or a verifier that remembers one,
// noticing.
const (
	// CheckpointAction is the action of a checkpoint event.
	CheckpointAction = "audit.checkpoint"
	// CheckpointActor is the actor of a checkpoint event.
	CheckpointActor = "system:audit"
	// CheckpointType is the typ of a checkpoint's JWS header, so it can never pass for an ID
	// token nor an ID token for it.
	CheckpointType = "broker-audit-checkpoint+jwt"
)

// Checkpoint is the signed claim of a checkpoint event.
type Checkpoint struct {
	// Issuer is broker's issuer: the checkpoint is verified with that issuer's JWKS.
	Issuer string `json:"iss"`
	// Count is how many events the claim covers: positions 0 to Count-1. They precede the
	// checkpoint event, which may come a few events after them when replicas append meanwhile.
	Count int64 `json:"count"`
	// Tail is the hash of event Count-1 ("" when Count is 0).
	Tail string `json:"tail"`
	// Time is when it was signed (RFC 3339), the same as its event's time, by the signing
	// replica's clock: it may precede the previous checkpoint's after a clock steps back.
	Time string `json:"time"`
	// Every and Interval (seconds) are the schedule the signing replica keeps: the next
	// checkpoint follows at most about Every events, and Interval after an event. A verifier
	// takes them as the bound on what may follow the latest checkpoint unanchored. Zero in
	// checkpoints of older versions.
	Every    int64 `json:"every,omitempty"`
	Interval int64 `json:"interval,omitempty"`
}

// SignFunc signs a Checkpoint's JSON as a compact JWS with typ CheckpointType and the kid of a
// key broker's JWKS publishes.
type SignFunc func(ctx context.Context, payload []byte) (string, error)

// CheckpointConfig configures a Checkpointer.
type CheckpointConfig struct {
	// Store is the chain; several replicas' Checkpointers may share one.
	Store Store
	// Sign signs checkpoints.
	Sign SignFunc
	// Issuer is the iss of every checkpoint.
	Issuer string
	// Space is the space of checkpoint events (root).
	Space string
	// Every: a checkpoint is due once this many events follow the last one.
	Every int64
	// Interval: a checkpoint is due once an event follows the last one and it is this old.
	Interval time.Duration
	// MaxAge: a checkpoint is due once the last one is this old, even with no event after it, so
	// the latest checkpoint is signed by a key the JWKS still publishes. Zero turns this off.
	MaxAge time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Logger receives failed checkpoints; slog.Default() when nil.
	Logger *slog.Logger
	// Keys returns the issuer's JWKS: at its first check, a Checkpointer trusts the chain up
	// to the latest checkpoint in the store only if that checkpoint verifies with them (see
	// startTrust), and at each later check it follows a newer one only if it does (see
	// follow). Nil: it checks the chain from its first event, and follows none.
	Keys PublishedKeys
	// Appended, when set, is called after each checkpoint this Checkpointer appends, as a
	// watcher of the store's appends (the audit sinks) is told of events.
	Appended func()
}

// Checkpointer is a Store that anchors the chain it wraps: its Run loop appends a signed
// checkpoint whenever one is due (see CheckpointConfig). Appends only count: signing happens in
// Run, never on an append's way.
type Checkpointer struct {
	cfg     CheckpointConfig
	started time.Time
	// wakeAfter: Run checks whether a checkpoint is due after this many local appends.
	wakeAfter int64
	count     atomic.Int64
	wake      chan struct{}
	mu        sync.Mutex // serializes Check
	// seenID and seenAt (guarded by mu) are the latest checkpoint this Checkpointer found at the
	// head and when, by its clock (monotonic with time.Now), it first did: that checkpoint is at
	// least that old, whatever the time it carries.
	seenID string
	seenAt time.Time
	// trusted (guarded by mu) is the prefix of the chain this Checkpointer signed, checked or
	// found anchored last, nil before its first check (see follow), and followed the id of the
	// latest checkpoint it took that from.
	trusted  *prefix
	followed string
	// checks: the store is one others may write (not processLocal), whose chain this
	// Checkpointer checks before it signs (see guard).
	checks bool
	// refused (guarded by mu) is the ErrNotExtended this Checkpointer refused with: it signs no
	// checkpoint again, and checks nothing again, until it is restarted.
	refused error
	// lateAnchored (guarded by mu): startTrust appended a LateAnchorAction event, which the
	// checkpoint of the same check covers at once (see Check).
	lateAnchored bool
}

// aheadSkew is how far ahead of this replica's clock the last checkpoint may be dated by another
// replica's: further ahead, one of the clocks stepped, and the events after it are of an age
// that cannot be told, so a checkpoint is due for them at once. Within it, the replicas' clocks
// merely disagree, and the checkpoint follows on the interval as usual.
const aheadSkew = time.Minute

// minTick bounds how often Run looks at the chain's head on its timer.
const minTick = 250 * time.Millisecond

// NewCheckpointer checks cfg and returns a Checkpointer.
func NewCheckpointer(cfg CheckpointConfig) (*Checkpointer, error) {
	if cfg.Store == nil || cfg.Sign == nil || cfg.Issuer == "" || cfg.Space == "" || cfg.Every < 1 || cfg.Interval <= 0 || cfg.MaxAge < 0 {
		return nil, errors.New("audit: a checkpointer needs Store, Sign, Issuer, Space, Every of at least 1 and a positive Interval")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	_, local := cfg.Store.(processLocal)
	return &Checkpointer{cfg: cfg, started: cfg.Now(), wakeAfter: max(1, cfg.Every/4), wake: make(chan struct{}, 1), checks: !local}, nil
}

// Append implements Store: it appends e and, every so many appends, wakes Run.
func (c *Checkpointer) Append(ctx context.Context, e Event, spaces []string) (Event, error) {
	out, err := c.cfg.Store.Append(ctx, e, spaces)
	if err == nil {
		c.appended()
	}
	return out, err
}

// appended counts an append, waking Run every wakeAfter appends.
func (c *Checkpointer) appended() {
	if c.count.Add(1)%c.wakeAfter == 0 {
		select {
		case c.wake <- struct{}{}:
		default:
		}
	}
}

// AppendChecked implements CheckedStore when the wrapped store does; otherwise it appends
// nothing and fails with runs.ErrChanged, so the caller reads the run again and appends
// without a condition.
func (c *Checkpointer) AppendChecked(ctx context.Context, e Event, spaces []string, v runs.Version) (Event, error) {
	cs, ok := c.cfg.Store.(CheckedStore)
	if !ok {
		return Event{}, fmt.Errorf("%w: the audit store cannot check a run", runs.ErrChanged)
	}
	out, err := cs.AppendChecked(ctx, e, spaces, v)
	if err == nil {
		c.appended()
	}
	return out, err
}

// List implements Store.
func (c *Checkpointer) List(ctx context.Context, space, cursor string, limit int) ([]Event, string, error) {
	return c.cfg.Store.List(ctx, space, cursor, limit)
}

// Head implements Store.
func (c *Checkpointer) Head(ctx context.Context) (Head, error) { return c.cfg.Store.Head(ctx) }

// AppendCheckpoint implements Store.
func (c *Checkpointer) AppendCheckpoint(ctx context.Context, e Event, spaces []string, after int64) (Event, bool, error) {
	return c.cfg.Store.AppendCheckpoint(ctx, e, spaces, after)
}

// Run checks whether a checkpoint is due at once, then on a timer (a quarter of the interval, at
// most 15s, as another replica's checkpoint may sign a shorter one) and whenever appends wake it,
// until ctx ends. Failures are logged and retried at the next check; a chain it will not sign
// over (ErrNotExtended, which stays until restart) is logged once a minute.
func (c *Checkpointer) Run(ctx context.Context) {
	ticker := time.NewTicker(runTick(c.cfg.Interval, c.cfg.MaxAge))
	defer ticker.Stop()
	var refused string // the last refusal logged, and when: once a minute
	var refusedAt time.Time
	for {
		switch _, err := c.Check(ctx); {
		case err == nil || ctx.Err() != nil:
		case errors.Is(err, ErrNotExtended):
			if now := c.cfg.Now(); err.Error() != refused || now.Sub(refusedAt) >= time.Minute || now.Before(refusedAt) {
				refused, refusedAt = err.Error(), now
				c.cfg.Logger.ErrorContext(ctx, "audit: not signing checkpoints: the chain was changed in the store, or the store lost events; verify the trail (broker audit verify); once the cause is known, a restart makes this replica sign over the chain as it stands, unless the chain no longer extends the latest checkpoint in the store, which it then trusts, or more events, or older ones, follow that checkpoint than a verifier accepts",
					"err", err)
			}
		default:
			c.cfg.Logger.WarnContext(ctx, "audit: could not write a checkpoint; retrying at the next check", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		case <-c.wake:
		}
	}
}

// runTick is how often Run looks at the chain on its timer: a quarter of the interval, or of
// maxAge when that is set and shorter, at most 15 s (another replica's checkpoint may sign a
// shorter interval) and at least minTick.
func runTick(interval, maxAge time.Duration) time.Duration {
	tick := min(interval, time.Minute)
	if maxAge > 0 {
		tick = min(tick, maxAge)
	}
	return max(tick/4, minTick)
}

// refuse returns err, kept as c.refused when it is ErrNotExtended. The caller holds c.mu.
func (c *Checkpointer) refuse(err error) error {
	if errors.Is(err, ErrNotExtended) {
		c.refused = err
	}
	return err
}

// intervalSeconds is the Interval a checkpoint signs.
func (c *Checkpointer) intervalSeconds() int64 { return int64(max(c.cfg.Interval/time.Second, 1)) }

// Check appends a checkpoint if one is due, and reports whether it did. Of several replicas
// finding the same one due, only the first to append it does (Store.AppendCheckpoint).
func (c *Checkpointer) Check(ctx context.Context) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.cfg.Now()
	head, err := c.cfg.Store.Head(ctx)
	if err != nil {
		return false, err
	}
	if c.refused != nil {
		return false, c.refused
	}
	if c.checks {
		if err := c.follow(ctx, head, now); err != nil {
			return false, c.refuse(err)
		}
	}
	if c.lateAnchored {
		// The late-anchor event startTrust appended is covered now: left after the checkpoint,
		// unanchored, a store writer could remove it with the rest.
		c.lateAnchored = false
		if head, err = c.cfg.Store.Head(ctx); err != nil {
			return false, err
		}
	} else if !c.due(head, now) {
		return false, nil
	}
	if c.checks {
		if err := c.guard(ctx, head); err != nil {
			return false, c.refuse(err)
		}
	}
	claim := Checkpoint{Issuer: c.cfg.Issuer, Count: head.Count, Tail: head.Tail, Time: now.UTC().Format(time.RFC3339Nano),
		Every: c.cfg.Every, Interval: c.intervalSeconds()}
	payload, err := json.Marshal(claim)
	if err != nil {
		return false, err
	}
	jws, err := c.cfg.Sign(ctx, payload)
	if err != nil {
		return false, fmt.Errorf("audit: sign checkpoint: %w", err)
	}
	after := int64(-1)
	if head.Checkpoint != nil {
		after = head.CheckpointAt
	}
	e := Event{
		ID: ulid.Make().String(), Time: claim.Time, Actor: CheckpointActor, Action: CheckpointAction,
		Space: c.cfg.Space, Outcome: Success, Detail: jws,
	}
	_, wrote, err := c.cfg.Store.AppendCheckpoint(ctx, e, []string{c.cfg.Space}, after)
	if wrote {
		c.seenID, c.seenAt = e.ID, now
		if c.cfg.Appended != nil {
			c.cfg.Appended()
		}
	}
	return wrote, err // not wrote: another replica's checkpoint came first; the next check looks again
}

// due reports whether head needs a checkpoint at now. Before this chain's first checkpoint the
// age counts from this Checkpointer's start. A checkpoint is as old as its time says, and at
// least as old as this Checkpointer has known it. When the clock reads more than aheadSkew
// before the last checkpoint's time (it stepped back, or the checkpoint was dated by a clock
// ahead), the events after it are of an age that cannot be told: a checkpoint is due for them at
// once.
func (c *Checkpointer) due(head Head, now time.Time) bool {
	if head.Count == 0 {
		return false
	}
	since, last := head.Count, c.started
	every, interval := c.cfg.Every, c.cfg.Interval
	if head.Checkpoint != nil {
		// Events not covered: those after the count the last checkpoint signed (events appended
		// while it was being signed stand before it in the chain but are not covered by it),
		// less the checkpoint itself.
		covered := head.CheckpointAt
		claim, err := decodeClaim(head.Checkpoint.Detail)
		if err == nil && claim.Count <= head.CheckpointAt {
			covered = claim.Count
		}
		// A verifier holds the events after the latest checkpoint to the schedule it signs,
		// which another replica (or this one before a change of configuration) may have
		// signed, or to its defaults when the checkpoint signs none (an older version's): keep
		// to the stricter of that and this replica's own.
		if err == nil {
			claimEvery, claimInterval := claim.Every, time.Duration(claim.Interval)*time.Second
			if claimEvery <= 0 {
				claimEvery = DefaultCheckpointEvery
			}
			if claim.Interval <= 0 || claimInterval <= 0 {
				claimInterval = DefaultCheckpointInterval
			}
			every, interval = min(every, claimEvery), min(interval, claimInterval)
		}
		since = head.Count - covered - 1
		last, _ = time.Parse(time.RFC3339Nano, head.Checkpoint.Time) // unreadable: zero, so due
	}
	age := now.Sub(last)
	if head.Checkpoint != nil {
		// Known since this Checkpointer first found it, or since now when its clock reads before
		// then (a clock without a monotonic reading that stepped back).
		if head.Checkpoint.ID != c.seenID || c.seenAt.IsZero() || now.Before(c.seenAt) {
			c.seenID, c.seenAt = head.Checkpoint.ID, now
		}
		age = max(age, now.Sub(c.seenAt))
	}
	switch {
	case since >= every:
		return true
	case since > 0 && (age >= interval || last.Sub(now) > aheadSkew):
		return true
	default:
		return head.Checkpoint != nil && c.cfg.MaxAge > 0 && age >= c.cfg.MaxAge
	}
}
