package keys_test

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/brokerhq/broker/keys"
)

// alternating sends every other call to a second backend, standing for two replicas.
type alternating struct {
	a, b  keys.Backend
	calls atomic.Int64
}

func (x *alternating) pick() keys.Backend {
	if x.calls.Add(1)%2 == 0 {
		return x.b
	}
	return x.a
}

func (x *alternating) Load(ctx context.Context) (keys.Set, error) { return x.pick().Load(ctx) }

func (x *alternating) Save(ctx context.Context, s keys.Set) error { return x.pick().Save(ctx, s) }

func (x *alternating) Generate(ctx context.Context, alg string, now time.Time) (keys.Key, error) {
	return keys.GenerateLocal(ctx, alg, now)
}

// fakeBackend is a Backend whose calls are scripted.
type fakeBackend struct {
	load  func(ctx context.Context) (keys.Set, error)
	save  func(ctx context.Context, s keys.Set) error
	loads atomic.Int64
}

func (f *fakeBackend) Load(ctx context.Context) (keys.Set, error) {
	f.loads.Add(1)
	return f.load(ctx)
}

func (f *fakeBackend) Save(ctx context.Context, s keys.Set) error { return f.save(ctx, s) }

func (f *fakeBackend) Generate(ctx context.Context, alg string, now time.Time) (keys.Key, error) {
	return keys.GenerateLocal(ctx, alg, now)
}
