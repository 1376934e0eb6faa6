package keys_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/brokerhq/broker/keys"
	"github.com/brokerhq/broker/keys/keystest"
)

func TestStartRotation(t *testing.T) {
	e := keystest.NewKey(t, keys.ES256, t0)
	r := keystest.NewKey(t, keys.RS256, t0)
	pendingE := keystest.NewKey(t, keys.ES256, h(99))
	pendingE.Activates = h(130)
	tests := []struct {
		name string
		set  []keys.Key
		algs []string
		save error
		// wantAlgs are the chains rotated, in order; wantErr the error instead
		wantAlgs []string
		wantErr  error
	}{
		{"empty set", nil, nil, nil, nil, keys.ErrNoSigningKey},
		{"every chain the set holds", []keys.Key{e, r}, nil, nil, []string{keys.ES256, keys.RS256}, nil},
		{"the chain asked for", []keys.Key{e, r}, []string{keys.RS256}, nil, []string{keys.RS256}, nil},
		{"a chain with a pending key", []keys.Key{e, pendingE}, nil, nil, nil, keys.ErrRotationPending},
		{"a replica saved first", []keys.Key{e}, nil, keys.ErrConflict, nil, keys.ErrConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stored := keys.Set{Generation: 3, Keys: tt.set}
			var saved []keys.Set
			b := &fakeBackend{
				load: func(context.Context) (keys.Set, error) { return stored, nil },
				save: func(_ context.Context, s keys.Set) error {
					if tt.save != nil {
						return tt.save
					}
					saved = append(saved, s)
					return nil
				},
			}
			started, err := keys.StartRotation(context.Background(), keys.RotationConfig{Backend: b, Policy: policy, Algs: tt.algs, Now: h(100)})
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("StartRotation error = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				if len(saved) != 0 {
					t.Errorf("a failed rotation saved %d sets", len(saved))
				}
				return
			}
			var algs []string
			for _, s := range started {
				algs = append(algs, s.Alg)
				if !s.Activates.Equal(h(124+rh)) || s.Retired == "" {
					t.Errorf("%s key %s signs at %v retiring %q, want 124h1m and its predecessor", s.Alg, s.KID, s.Activates, s.Retired)
				}
			}
			if !slices.Equal(algs, tt.wantAlgs) {
				t.Errorf("rotated %v, want %v", algs, tt.wantAlgs)
			}
			if len(saved) != 1 || saved[0].Generation != 4 || len(saved[0].Keys) != len(tt.set)+len(started) {
				t.Fatalf("saved %d sets, want one of generation 4 with the new keys", len(saved))
			}
		})
	}
}
