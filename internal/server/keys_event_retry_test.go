package server

import (
	"context"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/keys"
)

// A key-set event that cannot be appended is not lost: it is appended, in order, before the next
// key-set event, or by the retry loop when no other comes, and the record of the set the trail
// last recorded moves only once the trail holds every change up to it. On the old code a
// start-up keys.revoke that failed was dropped, and the replica's own rotation that followed
// moved the record past it, so no start recorded it either.
func TestKeySetEventRetried(t *testing.T) {
	set := func(gen int64, kids ...string) keys.SetMeta {
		s := keys.SetMeta{Generation: gen}
		for _, k := range kids {
			s.Keys = append(s.Keys, keys.Meta{KID: k, Alg: "ES256"})
		}
		return s
	}
	revoked := keys.Loaded{From: 1, Generation: 2, Revoked: []string{"k1"}, InForce: set(2, "k2")}
	rotated := keys.Change{Generation: 3, NewKID: "k3", NewAlg: "ES256", InForce: set(3, "k2", "k3")}
	tests := []struct {
		name string
		// next is what happens once the trail is back.
		next func(ctx context.Context, rec *auditRecorder)
		// want are the key-set actions the trail must hold, in order; record the generation
		// the record must name.
		want   []string
		record int64
	}{
		{name: "before the next key-set event",
			next: func(ctx context.Context, rec *auditRecorder) { rec.recordKeys(ctx, rotated) },
			want: []string{"keys.revoke", "keys.rotate"}, record: 3},
		{name: "by the retry loop",
			next: func(ctx context.Context, rec *auditRecorder) {
				ctx, cancel := context.WithCancel(ctx)
				done := make(chan struct{})
				go func() { defer close(done); rec.retryKeyEvents(ctx, 5*time.Millisecond) }()
				deadline := time.Now().Add(5 * time.Second)
				for time.Now().Before(deadline) {
					rec.keyMu.Lock()
					n := len(rec.keyWaiting)
					rec.keyMu.Unlock()
					if n == 0 {
						break
					}
					time.Sleep(5 * time.Millisecond)
				}
				cancel()
				<-done
			},
			want: []string{"keys.revoke"}, record: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			trail := &downMemory{Memory: audit.NewMemory()}
			record := &audit.MemoryKeySet{}
			if err := record.SaveKeySet(ctx, set(1, "k1", "k2")); err != nil {
				t.Fatal(err)
			}
			rec := &auditRecorder{store: trail, keySet: record, now: time.Now}

			trail.down.Store(true)
			rec.recordLoadedKeys(ctx, revoked)
			if got, _, _ := record.LoadKeySet(ctx); got.Generation != 1 {
				t.Fatalf("the record moved to generation %d with the revocation not in the trail", got.Generation)
			}
			trail.down.Store(false)
			tt.next(ctx, rec)

			events, _, err := trail.List(ctx, config.RootSpace, "", 100)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range events {
				got = append(got, e.Action)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("trail holds %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("trail holds %v, want %v", got, tt.want)
				}
			}
			if r, found, err := record.LoadKeySet(ctx); err != nil || !found || r.Generation != tt.record {
				t.Errorf("record = generation %d (found %v, %v), want %d", r.Generation, found, err, tt.record)
			}
		})
	}
}
