package api

import (
	"hash/maphash"
	"sync"
	"time"

	"github.com/brokerhq/broker/internal/apierror"
	"github.com/brokerhq/broker/internal/runs"
)

// MaxRunAudiences is how many distinct audiences one run may ask tokens for on one replica. A
// run needs a few (one per cloud or Vault it reaches); the bound keeps the refusal of an
// audience that is an API key's secret (the file may declare a secret of any form, so it is
// looked up) from becoming an oracle a run's code could try secrets against without limit.
const MaxRunAudiences = 32

// maxLedgerRuns bounds the runs an audienceLedger keeps; past it, the runs that expired go
// first, then any.
const maxLedgerRuns = 10_000

// errTooManyAudiences refuses a token for an audience beyond a run's MaxRunAudiences.
var errTooManyAudiences = apierror.New(apierror.CodeRateLimited,
	"This run has asked tokens for %d distinct audiences, the most one run may use.", MaxRunAudiences)

// audienceLedger keeps the distinct audiences each run asked tokens for, as hashes.
type audienceLedger struct {
	seed maphash.Seed
	mu   sync.Mutex
	runs map[string]*runAudiences
}

// runAudiences is one run's entry in an audienceLedger.
type runAudiences struct {
	expires time.Time
	seen    []uint64
}

// newAudienceLedger returns an empty ledger.
func newAudienceLedger() *audienceLedger {
	return &audienceLedger{seed: maphash.MakeSeed(), runs: map[string]*runAudiences{}}
}

// admit reports whether run may have a token for aud at now: an audience it asked for before,
// or a new one within MaxRunAudiences, which it then counts.
func (l *audienceLedger) admit(run runs.Run, aud string, now time.Time) bool {
	h := maphash.String(l.seed, aud)
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.runs[run.ID]
	if e == nil {
		if len(l.runs) >= maxLedgerRuns {
			l.evict(now)
		}
		e = &runAudiences{expires: run.ExpiresAt}
		l.runs[run.ID] = e
	}
	for _, s := range e.seen {
		if s == h {
			return true
		}
	}
	if len(e.seen) >= MaxRunAudiences {
		return false
	}
	e.seen = append(e.seen, h)
	return true
}

// evict makes room: it drops the runs expired at now, and when none had, any one run.
func (l *audienceLedger) evict(now time.Time) {
	before := len(l.runs)
	for id, e := range l.runs {
		if !now.Before(e.expires) {
			delete(l.runs, id)
		}
	}
	if len(l.runs) < before {
		return
	}
	for id := range l.runs {
		delete(l.runs, id)
		return
	}
}
