package keys

import (
	"reflect"
	"testing"
	"time"
)

// compareLoaded is the one comparison of a loaded set with the set before it, whether that is
// the set in force or the one the audit trail last recorded: a key new in the set is published,
// a moved retirement is a retirement, and of the keys gone, an expired one is dropped, one dated
// ahead is dropped ahead (unless an immediate key of its algorithm replaces it) and any other is
// revoked.
func TestCompareLoaded(t *testing.T) {
	now := epoch.Add(90 * 24 * time.Hour)
	p := Policy{Period: 720 * time.Hour, Prepublish: 24 * time.Hour, Retain: 24 * time.Hour, Alg: ES256}
	day := 24 * time.Hour
	// signing signs since 10 days, unscheduled; expired stopped 40 days ago; next is prepublished.
	signing := Meta{KID: "signing", Alg: ES256, Created: now.Add(-10 * day), Activates: now.Add(-10 * day)}
	expired := Meta{KID: "expired", Alg: ES256, Created: now.Add(-80 * day), Activates: now.Add(-80 * day), Retires: now.Add(-40 * day)}
	next := Meta{KID: "next", Alg: ES256, Created: now.Add(-time.Hour), Activates: now.Add(day)}
	retiring := signing
	retiring.Retires = now.Add(day)
	// replacement signs from its creation, as a revocation's does.
	replacement := Meta{KID: "replacement", Alg: ES256, Created: now, Activates: now}
	// ahead was saved by a replica whose clock ran two hours ahead.
	ahead := Meta{KID: "ahead", Alg: ES256, Created: now.Add(2 * time.Hour), Activates: now.Add(2*time.Hour + p.Lead())}
	set := func(gen int64, ks ...Meta) SetMeta { return SetMeta{Generation: gen, Keys: ks} }

	tests := []struct {
		name       string
		prev, next SetMeta
		want       Loaded
	}{
		{"same keys, other generation", set(3, signing), set(5, signing),
			Loaded{From: 3, Generation: 5}},
		{"rotation started", set(3, signing), set(4, retiring, next),
			Loaded{From: 3, Generation: 4, Published: []Meta{next}, Retired: []Meta{retiring}}},
		{"revoked", set(3, signing, next), set(4, next, replacement),
			Loaded{From: 3, Generation: 4, Published: []Meta{replacement}, Revoked: []string{"signing"}}},
		{"expired key dropped", set(3, expired, signing), set(4, signing),
			Loaded{From: 3, Generation: 4, Dropped: []string{"expired"}}},
		{"key dated ahead dropped", set(3, signing, ahead), set(4, signing),
			Loaded{From: 3, Generation: 4, DroppedAhead: []string{"ahead"}}},
		{"key dated ahead revoked", set(3, signing, ahead), set(4, signing, replacement),
			Loaded{From: 3, Generation: 4, Published: []Meta{replacement}, Revoked: []string{"ahead"}}},
		{"nothing before", set(0), set(1, signing),
			Loaded{From: 0, Generation: 1, Published: []Meta{signing}}},
		{"set went back", set(7, signing, next), set(2, signing),
			Loaded{From: 7, Generation: 2, Revoked: []string{"next"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := compareLoaded(tt.prev, tt.next, now, p); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("compareLoaded =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}
