package claims

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/runs"
)

func randomText(r *rand.Rand) string {
	var b strings.Builder
	for n := r.IntN(12); n > 0; n-- {
		switch r.IntN(5) {
		case 0:
			b.WriteByte(byte(r.IntN(0x80)))
		case 1:
			b.WriteRune(rune(0x80 + r.IntN(0x780)))
		case 2:
			b.WriteRune(rune(0x2020 + r.IntN(0x10)))
		case 3:
			b.WriteByte(byte(0x80 + r.IntN(0x80)))
		default:
			b.WriteString("run-")
		}
	}
	return b.String()
}

func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for i := range 5000 {
		s := func() string { return randomText(r) }
		c := Claims{
			Issuer: s(), Subject: s(), Audience: s(), Expiry: r.Int64() - r.Int64(), IssuedAt: r.Int64N(1 << 40),
			NotBefore: -r.Int64N(100), ID: s(), SpaceID: s(), CallerType: s(), CallerID: s(),
			RunType: runs.Type(s()), RunID: s(), RunPhase: runs.Phase(s()), Scope: runs.Scope(s()),
		}
		switch i % 4 {
		case 1:
			c.AWSTags = &AWSTags{PrincipalTags: map[string][]string{"space": {s()}, "stack": {s()}, "run": {s()}, "scope": {s()}}}
		case 2:
			c.AWSTags = &AWSTags{PrincipalTags: map[string][]string{s(): {s(), s()}, s(): nil, s(): {}}, TransitiveTagKeys: []string{s()}}
		case 3:
			c.AWSTags = &AWSTags{TransitiveTagKeys: []string{}}
		}
		want, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.AppendJSON(nil); !bytes.Equal(got, want) {
			t.Fatalf("claims %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

func BenchmarkAppendJSON(b *testing.B) {
	c := Claims{Issuer: "https://broker.example.com", Subject: "space:team-a:stack:app-a:run_type:TRACKED:scope:write",
		Audience: "sts.amazonaws.com", Expiry: 1795000000, IssuedAt: 1794996400, NotBefore: 1794996370,
		ID: "q2Qd6c1c9m0W0bM3pY5lVg", SpaceID: "team-a", CallerType: CallerTypeStack, CallerID: "app-a",
		RunType: runs.Tracked, RunID: "01JD8ZQ6Y3K9V2W4X5T7R8P0MN", RunPhase: runs.Applying, Scope: runs.Write}
	b.ReportAllocs()
	buf := make([]byte, 0, 512)
	for b.Loop() {
		buf = c.AppendJSON(buf[:0])
	}
}
