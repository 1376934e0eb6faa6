package catalog_test

import (
	"context"
	"slices"
	"testing"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/trust"
)

// writtenBy applies a change to m that only reads what the store records of identities attached
// for write (a stack created in prod-eu), and returns that record.
func writtenBy(t *testing.T, m *catalog.Manager, stack string) catalog.Written {
	t.Helper()
	var got catalog.Written
	_, err := m.Apply(context.Background(), catalog.Mutation{
		Ref: catalog.Ref{Kind: catalog.KindStack, ID: stack}, Object: config.Stack{ID: stack, Space: "prod-eu"},
		AuthorizeResult: func(o catalog.Outcome) error { got = o.Written; return nil },
	})
	if err != nil {
		t.Fatalf("creating stack %s: %v", stack, err)
	}
	return got
}

// TestWriterRecordsOutliveTheirAttachments: the store records each cloud identity a stack is
// attached to for write with the path of the stack's space, from the configuration file at the
// start and from the API, and keeps the record once the attachment, its stack and the file's
// attachment are gone: the trust policies printed for the write identity outlive them.
// Guards against: writers.go:writerRecords not called at the start, on a reload or by a change
// Guards against: writers.go:writtenIn dropping records of attachments deleted since
func TestWriterRecordsOutliveTheirAttachments(t *testing.T) {
	f := file()
	f.Integrations = append(f.Integrations, awsIn("aws-file-w", "prod"))
	f.Attachments = append(f.Attachments, config.Attachment{Stack: "vpc", Integration: "aws-file-w", Write: true})
	store := catalog.NewMemory()
	m, err := catalog.NewManager(context.Background(), catalog.ManagerConfig{Store: store, File: f})
	if err != nil {
		t.Fatal(err)
	}
	fileRole := trust.GrantedIdentity(awsIn("aws-file-w", "prod"))
	if got := writtenBy(t, m, "s1"); !slices.EqualFunc(got[fileRole], [][]string{{"root", "prod"}}, slices.Equal) {
		t.Fatalf("after the start, the record of %s: %v, want [[root prod]]", fileRole, got[fileRole])
	}

	apply := func(mu catalog.Mutation) {
		t.Helper()
		if _, err := m.Apply(context.Background(), mu); err != nil {
			t.Fatalf("apply %v: %v", mu.Ref, err)
		}
	}
	apply(catalog.Mutation{Ref: catalog.Ref{Kind: catalog.KindIntegration, ID: "aws-api-w"}, Object: awsIn("aws-api-w", "prod")})
	apply(catalog.Mutation{Ref: catalog.Ref{Kind: catalog.KindStack, ID: "app"}, Object: config.Stack{ID: "app", Space: "prod-eu"}})
	att := catalog.Ref{Kind: catalog.KindAttachment, ID: catalog.AttachmentID("app", "aws-api-w")}
	apply(catalog.Mutation{Ref: att, Object: config.Attachment{Stack: "app", Integration: "aws-api-w", Write: true}})
	apply(catalog.Mutation{Ref: att})
	apply(catalog.Mutation{Ref: catalog.Ref{Kind: catalog.KindStack, ID: "app"}})

	// The file drops its write attachment on a reload.
	f.Attachments = f.Attachments[:len(f.Attachments)-1]
	if _, err := m.Reload(context.Background(), f); err != nil {
		t.Fatal(err)
	}
	got := writtenBy(t, m, "s2")
	apiRole := trust.GrantedIdentity(awsIn("aws-api-w", "prod"))
	if !slices.EqualFunc(got[apiRole], [][]string{{"root", "prod", "prod-eu"}}, slices.Equal) {
		t.Errorf("the record of %s, attached for write then deleted with its stack: %v, want [[root prod prod-eu]]", apiRole, got[apiRole])
	}
	if !slices.EqualFunc(got[fileRole], [][]string{{"root", "prod"}}, slices.Equal) {
		t.Errorf("the record of %s, dropped from the file: %v, want [[root prod]]", fileRole, got[fileRole])
	}
	if _, ok := got[trust.GrantedIdentity(awsIn("aws-root", "root"))]; ok {
		t.Errorf("an identity attached for read only is recorded as attached for write: %v", got)
	}

	// Another replica starting on the same store reads the records.
	m2, err := catalog.NewManager(context.Background(), catalog.ManagerConfig{Store: store, File: f})
	if err != nil {
		t.Fatal(err)
	}
	if got := writtenBy(t, m2, "s3"); len(got[apiRole]) != 1 || len(got[fileRole]) != 1 {
		t.Errorf("a replica started on the store reads %v, want both records", got)
	}
}

// TestWrittenSpacesStandInForMovedSpaces: a record stands for the deepest space of its path still
// at its place, so a space deleted, or moved, or recreated under another parent stands for its
// nearest ancestor in place, whose rights are asked instead, never for the space now holding its
// id elsewhere.
// Guards against: writers.go:placedSpace matching an id without its ancestors
func TestWrittenSpacesStandInForMovedSpaces(t *testing.T) {
	c, err := catalog.Build(catalog.Input{File: catalog.Objects{Spaces: []config.Space{
		{ID: "root"}, {ID: "prod", Parent: "root", Inherit: true}, {ID: "team", Parent: "root", Inherit: true},
		{ID: "dev", Parent: "root", Inherit: true}, {ID: "app", Parent: "dev", Inherit: true}}}})
	if err != nil {
		t.Fatal(err)
	}
	w := catalog.Written{
		"in-place":  {{"root", "dev", "app"}},
		"moved":     {{"root", "prod", "team"}},
		"deleted":   {{"root", "prod", "gone"}},
		"top-gone":  {{"root", "gone", "app"}},
		"two-paths": {{"root", "dev"}, {"root", "prod", "x"}, {"root", "dev"}},
	}
	want := map[string][]string{
		"in-place": {"app"}, "moved": {"prod"}, "deleted": {"prod"}, "top-gone": {"root"}, "two-paths": {"dev", "prod"},
	}
	got := w.Spaces(c)
	for id, spaces := range want {
		if !slices.Equal(got[id], spaces) {
			t.Errorf("%s stands for %v, want %v", id, got[id], spaces)
		}
	}
}
