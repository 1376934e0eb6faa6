package trust

import (
	"slices"
	"testing"

	"github.com/brokerhq/broker/internal/runs"
)

// TestReadBesideWriteNamesOnlyWhatThePrintedTrustAdmits: base's administrator names prod's
// write role in an integration of base and attaches a stack of base to it for read. The trust
// printed for prod's stack leaves that pair out (another subtree's), so the read-beside-write
// note, which says whose read tokens the printed trust admits, does not name it; a read pair
// the printed trust does admit (prod's own) is still named.
func TestReadBesideWriteNamesOnlyWhatThePrintedTrustAdmits(t *testing.T) {
	const role = "arn:aws:iam::123456789012:role/prod-write"
	withAttachments := func(extra string) string {
		return `issuer: https://broker.example.com
spaces:
  - {id: root}
  - {id: prod, parent: root, inherit: false}
  - {id: base, parent: root}
stacks:
  - {id: vpc, space: prod}
  - {id: dns, space: prod}
  - {id: evil, space: base}
integrations:
  - {id: aws-prod, space: prod, aws: {role_arn: "` + role + `"}}
  - {id: aws-evil, space: base, aws: {role_arn: "` + role + `"}}
attachments:
  - {stack: vpc, integration: aws-prod, write: true}
  - {stack: evil, integration: aws-evil, read: true}
` + extra
	}
	req := Request{Provider: "aws", Stack: "vpc", Scope: runs.Write}
	cfg := parseConfig(t, withAttachments(""))
	_, leftOut, err := RenderNotes(cfg, req)
	if err != nil || len(leftOut) != 1 {
		t.Fatalf("RenderNotes: left out %q, %v; want evil's read pair left out", leftOut, err)
	}
	if got, err := ReadBesideWrite(cfg, req); err != nil || len(got) != 0 {
		t.Errorf("ReadBesideWrite = %q, %v; want nothing: the printed trust leaves evil out",
			got, err)
	}

	cfg = parseConfig(t, withAttachments("  - {stack: dns, integration: aws-prod, read: true}\n"))
	want := []string{"dns (read) through aws-prod"}
	if got, err := ReadBesideWrite(cfg, req); err != nil || !slices.Equal(got, want) {
		t.Errorf("ReadBesideWrite = %q, %v; want %q", got, err, want)
	}
}
