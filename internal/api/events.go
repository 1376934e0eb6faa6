package api

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/brokerhq/broker/internal/apierror"
	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/runs"
)

// Event is something the API did that belongs in the audit trail. It never holds a secret.
type Event struct {
	Actor       string
	Action      string
	Run         runs.Run
	Integration string
	// Space is the space an event that names no run belongs to (a refused request on a space
	// or stack, or an unauthenticated one, filed under root); Run.Space wins when set.
	Space string
	// Also lists further spaces the event is filed under, with their ancestors: the space an
	// object was moved out of (a stack's or integration's old space, a space's old parent), every
	// space an API key is bound on; so each of those spaces' listings shows the change.
	Also []string
	// Outcome is "success" (the default when empty), "denied" or "error".
	Outcome string
	Detail  string
	// Index, when set, is the catalog whose space paths the event is filed under, in place of
	// the catalog in force: an administration change's event is recorded before the change is
	// committed, and filed as the catalog after the change places its spaces.
	Index *catalog.Catalog
	// Version, when set, is Run as the request read it from a cache: the event is recorded only
	// if the stored run is still that record, and otherwise Record fails with runs.ErrChanged
	// and records nothing.
	Version runs.Version
}

// Recorder receives events; the audit trail implements it. A failed Record means the event is
// not in the trail, so what it records must not be handed out: handlers answer with the error.
type Recorder interface {
	Record(ctx context.Context, e Event) error
}

type nopRecorder struct{}

func (nopRecorder) Record(context.Context, Event) error { return nil }

// recordRefusal records a refused request; the refusal stands whether or not it is recorded.
// A RefusalLimit may leave out a denied one (its actor's refusals are over the limit); an error
// (an upstream's refusal of credentials, say) is always recorded.
func recordRefusal(ctx context.Context, r Recorder, log *slog.Logger, e Event) {
	if l, ok := r.(refusalAdmitter); ok && e.Outcome == "denied" {
		note, admit := l.admitRefusal(ctx, e.Actor)
		if !admit {
			return
		}
		e.Detail += note
	}
	if err := r.Record(ctx, e); err != nil {
		log.WarnContext(ctx, "audit: could not record a refusal", "action", e.Action, "run", e.Run.ID, "err", err)
	}
}

// recordAlways records an event a RefusalLimit never leaves out: one that corrects an event
// already in the trail (a run recorded but not stored, a move recorded but not applied, a token
// or credentials recorded but withheld), or the refusal of a run record found inconsistent, the
// trail's only trace of an edited store. It is recorded even when the request's client has
// gone (ctx canceled): the event it corrects is in the trail whether or not anyone reads the
// answer. The store's own timeout still bounds it.
func recordAlways(ctx context.Context, r Recorder, log *slog.Logger, e Event) {
	ctx = context.WithoutCancel(ctx)
	if err := r.Record(ctx, e); err != nil {
		log.WarnContext(ctx, "audit: could not record a correction", "action", e.Action, "run", e.Run.ID, "err", err)
	}
}

// notRecorded is the answer when an event that must be in the trail could not be recorded: 503,
// since whatever it records was not handed out or not changed. The cause is logged here. A
// store that did not answer in time may still apply the event later (Redis frozen, then back),
// and so may one whose caller left while its append waited behind another request's round
// trip (the appends of a Redis trail are sent together), so a correction saying it was not
// done follows it, recorded in the background without delaying the answer: the trail never
// shows as done what the caller was refused.
func notRecorded(ctx context.Context, rec Recorder, log *slog.Logger, e Event, err error) error {
	log.ErrorContext(ctx, "audit: could not record an event; refusing the request", "action", e.Action, "run", e.Run.ID, "err", err)
	if !audit.MayLandLater(err) {
		return errUnrecorded // refused outright: nothing can land later
	}
	c := e
	c.Outcome, c.Version = audit.Failed, runs.Version{}
	c.Detail = strings.TrimSpace(e.Detail + " not done: the audit store did not confirm this event in time, so nothing was handed out or changed")
	select {
	case pendingCorrections <- struct{}{}:
		go func() {
			defer func() { <-pendingCorrections }()
			recordEventually(context.WithoutCancel(ctx), rec, log, c)
		}()
	default:
		log.WarnContext(ctx, "audit: too many corrections pending; this one is not recorded", "action", c.Action, "run", c.Run.ID)
	}
	return errUnrecorded
}

// pendingCorrections bounds the corrections being retried at once, so that a long outage under
// load does not pile up goroutines.
var pendingCorrections = make(chan struct{}, 1024)

// WaitCorrections waits until no correction is being recorded in the background, or ctx ends:
// a stopping server calls it before the audit sinks' last flush, so that a refused request's
// event does not stand alone in the trail, nor its correction miss the sinks.
func WaitCorrections(ctx context.Context) {
	for len(pendingCorrections) > 0 {
		select {
		case <-ctx.Done():
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// correctionRetries bounds how long recordEventually keeps trying: past it, the store that lost
// the correction is down for good, and so most likely is the event it corrects.
const correctionRetries = time.Minute

// recordEventually records a correction, trying again (backing off up to two seconds) while the
// store does not confirm it, for at most correctionRetries: the event it corrects may land when
// the store comes back, and must not stand alone then. A correction confirmed late may stand
// twice, which says the same.
func recordEventually(ctx context.Context, rec Recorder, log *slog.Logger, e Event) {
	wait, deadline := 100*time.Millisecond, time.Now().Add(correctionRetries)
	for {
		err := rec.Record(ctx, e)
		if err == nil {
			return
		}
		if time.Now().Add(wait).After(deadline) {
			log.WarnContext(ctx, "audit: could not record a correction", "action", e.Action, "run", e.Run.ID, "err", err)
			return
		}
		time.Sleep(wait)
		wait = min(2*wait, 2*time.Second)
	}
}

// errUnrecorded answers a request whose event the audit trail did not take.
var errUnrecorded = apierror.New(apierror.CodeUnavailable, "The audit trail is unreachable, so nothing was done; try again shortly.")
