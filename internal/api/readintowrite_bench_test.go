package api

import (
	"fmt"
	"testing"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

// BenchmarkReadIntoWrite10kStacks measures the read-pair rule each administration PUT asks of
// the catalog before and after it, with 1,000 spaces and 10,000 stacks, every tenth attached for
// write by an autoattach rule and every stack attached for read to an integration of the same
// AWS role: the worst case, every read pair reaching an identity attached for write.
func BenchmarkReadIntoWrite10kStacks(b *testing.B) {
	role := "arn:aws:iam::123456789012:role/shared"
	o := catalog.Objects{
		Spaces:       []config.Space{{ID: "root"}, {ID: "prod", Parent: "root", Inherit: true}},
		Integrations: []config.Integration{{ID: "reader", Space: "prod", AWS: &config.AWS{RoleARN: role}}, {ID: "writer", Space: "prod", AWS: &config.AWS{RoleARN: role}, Autoattach: []config.Autoattach{{Label: "tenth", Write: true}}}},
	}
	for i := range 1000 {
		o.Spaces = append(o.Spaces, config.Space{ID: fmt.Sprintf("s%d", i), Parent: "prod", Inherit: true})
	}
	for i := range 10000 {
		st := config.Stack{ID: fmt.Sprintf("st%d", i), Space: fmt.Sprintf("s%d", i%1000)}
		if i%10 == 0 {
			st.Labels = []string{"tenth"}
		}
		o.Stacks = append(o.Stacks, st)
		o.Attachments = append(o.Attachments, config.Attachment{Stack: st.ID, Integration: "reader", Read: true})
	}
	c, err := catalog.Build(catalog.Input{File: o})
	if err != nil {
		b.Fatal(err)
	}
	if cp := pairsOf(c); len(cp.readIntoWrite(cp.writersIn(map[string][]string{}))) != 10000 {
		b.Fatal("every read pair should reach the written identity")
	}
	b.ResetTimer()
	for range b.N {
		if spaces := newReadIntoWriteSpaces(c, c, nil); len(spaces) != 0 {
			b.Fatalf("no new pair, yet %v", spaces)
		}
	}
}
