package auditsink_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/auditsink"
)

// aheadChain is a chain whose head claims three events more than it can read yet (a store
// whose head is ahead of its readable range).
type aheadChain struct{ *audit.Memory }

func (c aheadChain) Head(ctx context.Context) (audit.Head, error) {
	h, err := c.Memory.Head(ctx)
	h.Count += 3
	return h, err
}

// countingSink counts the deliveries it is handed.
type countingSink struct{ calls atomic.Int64 }

func (s *countingSink) Deliver(context.Context, []audit.Event) error {
	s.calls.Add(1)
	return nil
}

// TestNothingReadIsNothingDelivered pins that when the chain's head lies past what can be
// read from the sink's cursor, the worker hands the sink no empty batch and waits for its poll
// rather than spin: a receiver is never flooded with empty posts.
// Guards against: worker.go:step drop `if len(events) == 0 { return false, nil }`
func TestNothingReadIsNothingDelivered(t *testing.T) {
	sink := &countingSink{}
	f, err := auditsink.New(auditsink.Config{Chain: aheadChain{audit.NewMemory()}, Cursors: audit.NewMemoryCursors(nil), Poll: time.Hour,
		Targets: []auditsink.Target{{Name: "s", Sink: sink}}})
	if err != nil {
		t.Fatal(err)
	}
	stop := f.Start(context.Background())
	time.Sleep(50 * time.Millisecond)
	stop()
	if n := sink.calls.Load(); n != 0 {
		t.Errorf("%d deliveries of nothing; want none", n)
	}
}
