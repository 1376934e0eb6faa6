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
	a := NewAttachments(cfg)
	read := runs.Run{Stack: "vpc", Scope: runs.Read}
	write := runs.Run{Stack: "vpc", Scope: runs.Write}
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
		{"named write integration in a read phase of another stack", runs.Run{Stack: "other", Scope: runs.Write}, "aws", "aws-write", "", ErrNotAttachedForScope},
		{"attached for read on another stack", runs.Run{Stack: "other", Scope: runs.Read}, "aws", "", "aws-write", nil},
		{"nothing attached for the provider", read, "vault", "", "", ErrNotAttached},
		{"named but never attached", read, "vault", "vault-unattached", "", ErrNotAttachedForScope},
		{"unknown stack", runs.Run{Stack: "nope", Scope: runs.Read}, "aws", "", "", ErrNotAttached},
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
