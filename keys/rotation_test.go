package keys_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/brokerhq/broker/keys"
)

// h is an instant n hours after t0.
func h(n float64) time.Time { return t0.Add(time.Duration(n * float64(time.Hour))) }

// hours is when a test key was created, signs from and retires, in hours after t0 (see h). The
// zero value is a key created and signing at t0 that is not retiring: a zero retires means none.
type hours struct {
	created, activates, retires float64
}

// meta builds the metadata of ES256 key kid: created at h(at.created), signing from
// h(at.activates) and, unless at.retires is zero, retiring at h(at.retires).
func meta(kid string, at hours) keys.Meta {
	m := keys.Meta{KID: kid, Alg: keys.ES256, Created: h(at.created), Activates: h(at.activates)}
	if at.retires != 0 {
		m.Retires = h(at.retires)
	}
	return m
}

func metaKIDs(ms []keys.Meta) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.KID
	}
	return out
}

// policy is 720h/24h/24h like the reference configuration.
var policy = keys.Policy{Period: 720 * time.Hour, Prepublish: 24 * time.Hour, Retain: 24 * time.Hour, Alg: keys.ES256}

// rh is policy's Lead beyond its prepublish, two refresh intervals of 30s, in hours: a new key
// signs 24h+rh after it is saved.
const rh = 1.0 / 60

// lh is policy's Linger in hours: two refresh intervals and MaxClockSkew, two minutes.
const lh = 2.0 / 60

func TestRefreshInterval(t *testing.T) {
	tests := []struct {
		prepublish, want time.Duration
	}{
		{0, 250 * time.Millisecond},
		{2 * time.Second, 250 * time.Millisecond},
		{4 * time.Second, 250 * time.Millisecond},
		{5 * time.Second, 312500 * time.Microsecond},
		{2 * time.Minute, 7500 * time.Millisecond},
		{8 * time.Minute, 30 * time.Second},
		{24 * time.Hour, 30 * time.Second},
	}
	for _, tt := range tests {
		if got := keys.RefreshInterval(tt.prepublish); got != tt.want {
			t.Errorf("RefreshInterval(%v) = %v, want %v", tt.prepublish, got, tt.want)
		}
		p := keys.Policy{Period: 48 * time.Hour, Prepublish: tt.prepublish}
		if got := p.Lead(); got != tt.prepublish+2*tt.want {
			t.Errorf("Lead with prepublish %v = %v, want %v", tt.prepublish, got, tt.prepublish+2*tt.want)
		}
	}
}

func TestPolicyValidate(t *testing.T) {
	tests := []struct {
		name string
		p    keys.Policy
		ok   bool
	}{
		{"default", keys.DefaultPolicy(), true},
		{"no prepublish or retain", keys.Policy{Period: time.Hour}, true},
		{"zero period", keys.Policy{Prepublish: time.Hour}, false},
		{"negative retain", keys.Policy{Period: time.Hour, Retain: -1}, false},
		{"prepublish equals period", keys.Policy{Period: time.Hour, Prepublish: time.Hour}, false},
		{"bad alg", keys.Policy{Period: time.Hour, Alg: "HS256"}, false},
		{"ten years", keys.Policy{Period: keys.MaxPolicyDuration, Prepublish: time.Hour, Retain: keys.MaxPolicyDuration}, true},
		{"period past ten years", keys.Policy{Period: keys.MaxPolicyDuration + 1}, false},
		{"retain past ten years, whose sums would wrap", keys.Policy{Period: time.Hour, Retain: keys.MaxPolicyDuration + 1}, false},
	}
	for _, tt := range tests {
		err := tt.p.Validate()
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, keys.ErrInvalidPolicy)) {
			t.Errorf("%s: Validate() = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

func TestSigning(t *testing.T) {
	a := meta("a", hours{retires: 720})
	b := meta("b", hours{created: 696 - rh, activates: 720})
	tests := []struct {
		name string
		now  float64
		set  []keys.Meta
		want string // "" for none
	}{
		{"empty", 0, nil, ""},
		{"single", 5, []keys.Meta{meta("a", hours{})}, "a"},
		{"before successor", 719, []keys.Meta{a, b}, "a"},
		{"successor at its activation", 720, []keys.Meta{a, b}, "b"},
		{"after successor", 800, []keys.Meta{b, a}, "b"},
		{"retired without successor keeps signing", 800, []keys.Meta{a}, "a"},
		{"latest of two unretired active keys", 10, []keys.Meta{meta("x", hours{}), meta("y", hours{activates: 5})}, "y"},
		{"tie broken by kid", 10, []keys.Meta{meta("y", hours{activates: 5}), meta("x", hours{activates: 5})}, "y"},
		{"only future keys: earliest", 0, []keys.Meta{meta("late", hours{activates: 3}), meta("early", hours{activates: 1})}, "early"},
	}
	for _, tt := range tests {
		got, ok := keys.Signing(h(tt.now), tt.set, keys.ES256)
		if ok != (tt.want != "") || got.KID != tt.want {
			t.Errorf("%s: Signing = %q, %v; want %q", tt.name, got.KID, ok, tt.want)
		}
	}
}

func TestPublished(t *testing.T) {
	set := []keys.Meta{
		meta("b", hours{created: 696 - rh, activates: 720, retires: 1440}),
		meta("a", hours{retires: 720}),
		meta("c", hours{created: 1416 - rh, activates: 1440}),
	}
	tests := []struct {
		now  float64
		want []string
	}{
		{0, []string{"a", "b", "c"}},
		{743.9, []string{"a", "b", "c"}},
		{744, []string{"a", "b", "c"}}, // a retired at 720, retained 24h and lingering
		{744 + lh, []string{"b", "c"}}, // then gone
		{1464 + lh, []string{"c"}},
	}
	for _, tt := range tests {
		if got := metaKIDs(keys.Published(h(tt.now), set, policy)); !slices.Equal(got, tt.want) {
			t.Errorf("Published(%vh) = %v, want %v", tt.now, got, tt.want)
		}
	}
}

func TestDecide(t *testing.T) {
	tests := []struct {
		name string
		now  float64
		set  []keys.Meta
		want keys.Decision
	}{{
		name: "bootstrap signs at once",
		now:  3,
		want: keys.Decision{Generate: true, Activates: h(3)},
	}, {
		name: "fresh key: nothing to do",
		now:  100,
		set:  []keys.Meta{meta("a", hours{})},
	}, {
		name: "just before the lead",
		now:  695.98,
		set:  []keys.Meta{meta("a", hours{})},
	}, {
		name: "at the lead (prepublish plus two refresh intervals): successor activates at the period",
		now:  696 - rh,
		set:  []keys.Meta{meta("a", hours{})},
		want: keys.Decision{Generate: true, Activates: h(720), Retire: "a", Retires: h(720)},
	}, {
		name: "past the lead: successor still gets the whole lead",
		now:  696,
		set:  []keys.Meta{meta("a", hours{})},
		want: keys.Decision{Generate: true, Activates: h(720 + rh), Retire: "a", Retires: h(720 + rh)},
	}, {
		name: "successor pending: nothing to do",
		now:  700,
		set:  []keys.Meta{meta("a", hours{retires: 720}), meta("b", hours{created: 696 - rh, activates: 720})},
	}, {
		name: "late (outage): successor still prepublished",
		now:  1000,
		set:  []keys.Meta{meta("a", hours{})},
		want: keys.Decision{Generate: true, Activates: h(1024 + rh), Retire: "a", Retires: h(1024 + rh)},
	}, {
		name: "retained key not yet expired",
		now:  743,
		set:  []keys.Meta{meta("a", hours{retires: 720}), meta("b", hours{created: 696 - rh, activates: 720})},
	}, {
		name: "expired key dropped",
		now:  744 + lh,
		set:  []keys.Meta{meta("a", hours{retires: 720}), meta("b", hours{created: 696 - rh, activates: 720})},
		want: keys.Decision{Drop: []string{"a"}},
	}, {
		name: "drop and rotate together",
		now:  2000,
		set:  []keys.Meta{meta("a", hours{retires: 720}), meta("b", hours{created: 696 - rh, activates: 720})},
		want: keys.Decision{Generate: true, Activates: h(2024 + rh), Retire: "b", Retires: h(2024 + rh), Drop: []string{"a"}},
	}, {
		name: "the signing key is never dropped",
		now:  2000,
		set:  []keys.Meta{meta("a", hours{retires: 720})},
		want: keys.Decision{Generate: true, Activates: h(2024 + rh), Retire: "a", Retires: h(2024 + rh)},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := keys.Decide(h(tt.now), tt.set, policy)
			if !sameDecision(got, tt.want) {
				t.Errorf("Decide = %+v, want %+v", got, tt.want)
			}
			if got.Empty() != sameDecision(tt.want, keys.Decision{}) {
				t.Errorf("Empty() = %v", got.Empty())
			}
		})
	}
}

func TestForceRotate(t *testing.T) {
	tests := []struct {
		name    string
		now     float64
		set     []keys.Meta
		want    keys.Decision
		wantErr error
	}{{
		name: "empty set bootstraps",
		now:  1,
		want: keys.Decision{Generate: true, Activates: h(1)},
	}, {
		name: "the new key signs prepublish plus two refresh intervals after now",
		now:  100,
		set:  []keys.Meta{meta("a", hours{})},
		want: keys.Decision{Generate: true, Activates: h(124 + rh), Retire: "a", Retires: h(124 + rh)},
	}, {
		name:    "successor pending",
		now:     700,
		set:     []keys.Meta{meta("a", hours{retires: 720}), meta("b", hours{created: 696 - rh, activates: 720})},
		wantErr: keys.ErrRotationPending,
	}, {
		// It drops nothing, even a key expired by its own policy: the servers' Decide does,
		// by theirs.
		name: "after the successor took over, drops nothing",
		now:  800,
		set:  []keys.Meta{meta("a", hours{retires: 720}), meta("b", hours{created: 696 - rh, activates: 720})},
		want: keys.Decision{Generate: true, Activates: h(824 + rh), Retire: "b", Retires: h(824 + rh)},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := keys.ForceRotate(h(tt.now), tt.set, policy)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("ForceRotate error = %v, want %v", err, tt.wantErr)
			}
			if !sameDecision(got, tt.want) {
				t.Errorf("ForceRotate = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func sameDecision(a, b keys.Decision) bool {
	return a.Generate == b.Generate && a.Activates.Equal(b.Activates) && a.Retire == b.Retire &&
		a.Retires.Equal(b.Retires) && slices.Equal(a.Drop, b.Drop)
}

// fakeSignerKey is a key with a real signer but chosen metadata (Apply does not look at keys).
func fakeSignerKey(t *testing.T, m keys.Meta) keys.Key {
	k, err := keys.Generate(keys.ES256, m.Created)
	if err != nil {
		t.Fatal(err)
	}
	k.Meta = m
	return k
}

// storedKey is a key a backend takes: a real signer, its thumbprint as the kid, and the times of
// at (its kid is ignored).
func storedKey(t *testing.T, at keys.Meta) keys.Key {
	t.Helper()
	k, err := keys.Generate(at.Alg, at.Created)
	if err != nil {
		t.Fatal(err)
	}
	kid := k.KID
	k.Meta = at
	k.KID = kid
	return k
}

func TestApply(t *testing.T) {
	a := fakeSignerKey(t, meta("a", hours{retires: 720}))
	b := fakeSignerKey(t, meta("b", hours{created: 696 - rh, activates: 720}))
	set := keys.Set{Generation: 7, Keys: []keys.Key{a, b}}
	n := fakeSignerKey(t, meta("n", hours{created: 1416, activates: 1416}))
	d := keys.Decision{Generate: true, Activates: h(1440), Retire: "b", Retires: h(1440), Drop: []string{"a"}}
	next, err := keys.Apply(set, d, n)
	if err != nil {
		t.Fatal(err)
	}
	want := []keys.Meta{
		meta("b", hours{created: 696 - rh, activates: 720, retires: 1440}),
		meta("n", hours{created: 1416 - rh, activates: 1440}),
	}
	if next.Generation != 8 || len(next.Keys) != len(want) {
		t.Fatalf("Apply = generation %d, %v", next.Generation, kids(next))
	}
	for i, w := range want {
		if g := next.Keys[i].Meta; g.KID != w.KID || !g.Activates.Equal(w.Activates) || !g.Retires.Equal(w.Retires) {
			t.Errorf("key %d = %+v, want %+v", i, g, w)
		}
	}
	if !set.Keys[1].Retires.IsZero() || len(set.Keys) != 2 {
		t.Error("Apply modified its input")
	}

	for name, tc := range map[string]struct {
		d   keys.Decision
		key keys.Key
	}{
		"retire unknown":         {keys.Decision{Retire: "zz", Retires: h(1)}, keys.Key{}},
		"generate without key":   {keys.Decision{Generate: true, Activates: h(1)}, keys.Key{}},
		"new key already in set": {keys.Decision{Generate: true, Activates: h(1)}, b},
	} {
		if _, err := keys.Apply(set, tc.d, tc.key); !errors.Is(err, keys.ErrInvalidSet) {
			t.Errorf("%s: Apply = %v, want ErrInvalidSet", name, err)
		}
	}
}

func TestStates(t *testing.T) {
	set := []keys.Meta{
		meta("a", hours{retires: 720}),
		meta("b", hours{created: 696 - rh, activates: 720, retires: 1440}),
		meta("c", hours{created: 1416 - rh, activates: 1440}),
	}
	tests := []struct {
		now  float64
		want []keys.State
	}{
		{700, []keys.State{keys.StateSigning, keys.StatePending, keys.StatePending}},
		{730, []keys.State{keys.StateRetired, keys.StateSigning, keys.StatePending}},
		{1450, []keys.State{keys.StateExpired, keys.StateRetired, keys.StateSigning}},
	}
	// A chain none of whose keys has started (an ES256 key added beside an RS256 set) has no
	// signing key yet: its key is pending, whatever Signing falls back on.
	first := meta("first", hours{created: 700, activates: 724})
	rsa := keys.Meta{KID: "rsa", Alg: keys.RS256, Created: h(0), Activates: h(0)}
	if got := keys.States(h(710), []keys.Meta{rsa, first}, policy); got[0] != keys.StateSigning || got[1] != keys.StatePending {
		t.Errorf("States(710h) of an RS256 key and an ES256 key activating at 724h = %v, want [signing pending]", got)
	}
	for _, tt := range tests {
		got := keys.States(h(tt.now), set, policy)
		if len(got) != len(set) {
			t.Fatalf("States(%vh) = %v, want one state per key (%d)", tt.now, got, len(set))
		}
		for i, m := range set {
			if got[i] != tt.want[i] {
				t.Errorf("States(%vh)[%s] = %s, want %s", tt.now, m.KID, got[i], tt.want[i])
			}
		}
	}
}

func ExampleDecide() {
	p := keys.Policy{Period: 720 * time.Hour, Prepublish: 24 * time.Hour, Retain: 24 * time.Hour}
	created := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	set := []keys.Meta{{KID: "a", Alg: keys.RS256, Created: created, Activates: created}}
	// The successor is saved Lead (prepublish plus two 30s refresh intervals) before the period
	// ends, so that every replica has published it for prepublish when it starts signing.
	d := keys.Decide(created.Add(p.Period-p.Lead()), set, p)
	fmt.Println(d.Generate, d.Activates.Format(time.DateTime), d.Retire, p.Lead())
	// Output: true 2025-01-31 00:00:00 a 24h1m0s
}
