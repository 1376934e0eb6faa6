package exchange

import (
	"errors"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/runs"
)

func TestResolve(t *testing.T) {
	cfg := &config.Config{
		Integrations: []config.Integration{
			{ID: "aws-read", AWS: &config.AWS{}},
			{ID: "aws-write", AWS: &config.AWS{}},
			{ID: "gcp-both", GCP: &config.GCP{}},
			{ID: "vault-unattached", Vault: &config.Vault{}},
		},
		Attachments: []config.Attachment{
			{Stack: "vpc", Integration: "aws-read", Read: true},
			{Stack: "vpc", Integration: "aws-write", Write: true},
			{Stack: "vpc", Integration: "gcp-both", Read: true, Write: true},
			{Stack: "other", Integration: "aws-write", Read: true},
		},
	}
	a := NewAttachmentsOf(cfg)
	read := runOf("vpc", runs.Read)
	write := runOf("vpc", runs.Write)
	cases := []struct {
		name                  string
		run                   runs.Run
		provider, integration string
		want                  string
		err                   error
	}{
		{"read scope picks the read attachment", read, "aws", "", "aws-read", nil},
		{"write scope picks the write attachment", write, "aws", "", "aws-write", nil},
		{"one attachment for both, read", read, "gcp", "", "gcp-both", nil},
		{"one attachment for both, write", write, "gcp", "", "gcp-both", nil},
		{"named and attached for the scope", write, "aws", "aws-write", "aws-write", nil},
		{"named but attached only for the other scope", read, "aws", "aws-write", "", ErrNotAttachedForScope},
		{"named write integration in a read phase of another stack", runOf("other", runs.Write), "aws", "aws-write", "", ErrNotAttachedForScope},
		{"attached for read on another stack", runOf("other", runs.Read), "aws", "", "aws-write", nil},
		{"nothing attached for the provider", read, "vault", "", "", ErrNotAttached},
		{"named but never attached", read, "vault", "vault-unattached", "", ErrNotAttachedForScope},
		{"unknown stack", runOf("nope", runs.Read), "aws", "", "", ErrNotAttached},
		{"unknown integration", read, "aws", "nope", "", ErrUnknownIntegration},
		{"integration of another provider", read, "aws", "gcp-both", "", ErrWrongProvider},
		{"unknown provider", read, "oracle", "", "", ErrUnknownProvider},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in, err := a.Resolve(tc.run, tc.provider, tc.integration)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if in.ID != tc.want {
				t.Errorf("integration %q, want %q", in.ID, tc.want)
			}
		})
	}
	_, err := a.Resolve(write, "vault", "")
	if want := "stack vpc has no vault integration attached for scope write"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("404 message %v does not name stack, provider and scope", err)
	}
}

// runOf is a consistent TRACKED run of stack at scope: PLANNING for read, APPLYING for write.
func runOf(stack string, scope runs.Scope) runs.Run {
	phase := runs.Planning
	if scope == runs.Write {
		phase = runs.Applying
	}
	return runs.Run{ID: "01RUN", Stack: stack, RunType: runs.Tracked, Phase: phase, Scope: scope}
}

// TestResolveDerivesScope: the attachment served is the one of the scope the run type and phase
// carry; a record whose stored scope says otherwise resolves to nothing.
func TestResolveDerivesScope(t *testing.T) {
	a := NewAttachmentsOf(&config.Config{
		Integrations: []config.Integration{{ID: "aws-read", AWS: &config.AWS{}}, {ID: "aws-write", AWS: &config.AWS{}}},
		Attachments: []config.Attachment{
			{Stack: "vpc", Integration: "aws-read", Read: true},
			{Stack: "vpc", Integration: "aws-write", Write: true},
		},
	})
	corrupt := []runs.Run{
		{ID: "01RUN", Stack: "vpc", RunType: runs.Proposed, Phase: runs.Planning, Scope: runs.Write},
		{ID: "01RUN", Stack: "vpc", RunType: runs.Tracked, Phase: runs.Planning, Scope: runs.Write},
		{ID: "01RUN", Stack: "vpc", RunType: runs.Tracked, Phase: runs.Applying, Scope: runs.Read},
		{ID: "01RUN", Stack: "vpc", RunType: "ROOT", Phase: runs.Applying, Scope: runs.Write},
		{ID: "01RUN", Stack: "vpc", RunType: runs.Proposed, Phase: runs.Applying, Scope: runs.Write},
		{ID: "01RUN", Stack: "vpc", Scope: runs.Write},
	}
	for _, run := range corrupt {
		for _, named := range []string{"", "aws-write", "aws-read"} {
			in, err := a.Resolve(run, "aws", named)
			if !errors.Is(err, runs.ErrCorrupt) || in.ID != "" {
				t.Errorf("%s %s stored %s, integration %q: got %q, %v; want ErrCorrupt", run.RunType, run.Phase, run.Scope, named, in.ID, err)
			}
		}
	}
	if in, err := a.Resolve(runOf("vpc", runs.Write), "aws", ""); err != nil || in.ID != "aws-write" {
		t.Errorf("consistent APPLYING run: %q, %v", in.ID, err)
	}
}
