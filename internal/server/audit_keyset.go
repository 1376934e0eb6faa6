package server

import (
	"context"

	"github.com/brokerhq/broker/keys"
)

// loadKeySet reads the key set the trail last recorded, for the key manager to compare the
// first set it loads with (keys.Config.Recorded). known is false when it could not be read:
// that is logged, and the replica starts without it.
func (a *auditRecorder) loadKeySet(ctx context.Context) (recorded *keys.SetMeta, known bool) {
	if a.keySet == nil {
		return nil, false
	}
	set, found, err := a.keySet.LoadKeySet(ctx)
	if err != nil {
		a.logError("audit: could not read the key set the trail last recorded; a key-set change made while no replica ran is not recorded",
			"err", err)
		return nil, false
	}
	if !found {
		return nil, true
	}
	return &set, true
}

// saveInForce saves the key set m has in force as the one the trail last recorded.
func (a *auditRecorder) saveInForce(ctx context.Context, m *keys.Manager) {
	set, err := m.InForce(ctx)
	if err != nil {
		a.logError("audit: could not save the key set the trail last recorded", "err", err)
		return
	}
	a.saveKeySet(ctx, set)
}

// saveKeySet saves set, whose change the trail just recorded, as the one it last recorded. A
// failure is logged: the next replica to start then compares what it loads with an older set,
// and records a change again rather than miss one.
func (a *auditRecorder) saveKeySet(ctx context.Context, set keys.SetMeta) {
	if a.keySet == nil {
		return
	}
	if err := a.keySet.SaveKeySet(ctx, set); err != nil {
		a.logError("audit: could not save the key set the trail last recorded", "generation", set.Generation, "err", err)
	}
}

// logError logs msg at error level with attrs; without a logger it drops the line.
func (a *auditRecorder) logError(msg string, attrs ...any) {
	if a.log != nil {
		a.log.Error(msg, attrs...)
	}
}
