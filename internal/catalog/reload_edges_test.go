package catalog_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
)

// lateLeave has replica a, with runTTL, hear at heard of another replica's deletion of
// stack "gone", then reload at heard+after a file declaring "gone"; it returns heard and when
// the file's stack counts as created.
func lateLeave(t *testing.T, runTTL, after time.Duration) (heard, created time.Time) {
	t.Helper()
	ctx := context.Background()
	deleted := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	store := catalog.NewMemory()
	bNow, aNow := deleted.Add(-time.Minute), deleted.Add(-time.Minute)
	b, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: file(),
		Now: func() time.Time { return bNow }, RunTTL: runTTL})
	if err != nil {
		t.Fatal(err)
	}
	a, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: store, File: file(),
		Now: func() time.Time { return aNow }, RunTTL: runTTL})
	if err != nil {
		t.Fatal(err)
	}
	mustApply(t, b, stackPut(config.Stack{ID: "gone", Space: "prod"}))
	if err := a.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	bNow = deleted
	mustApply(t, b, catalog.Mutation{Ref: catalog.Ref{Kind: catalog.KindStack, ID: "gone"}})
	heard = deleted.Add(10 * time.Second)
	aNow = heard
	if err := a.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	aNow = heard.Add(after)
	declared := file()
	declared.Stacks = append(slices.Clone(declared.Stacks), config.Stack{ID: "gone", Space: "prod"})
	c, err := a.Reload(ctx, declared)
	if err != nil {
		t.Fatal(err)
	}
	meta, _ := c.Meta(catalog.Ref{Kind: catalog.KindStack, ID: "gone"})
	return heard, meta.Created
}

// TestLateLeaveRememberedForGoodWithoutRunTTL pins that with no run TTL a replica keeps for
// good when it heard of a stack's leaving: a file stack taking the id later counts as created a
// millisecond after that.
// Guards against: reload.go:fileCreated without `m.runTTL <= 0 ||`
func TestLateLeaveRememberedForGoodWithoutRunTTL(t *testing.T) {
	heard, created := lateLeave(t, 0, time.Hour)
	if want := heard.Add(time.Millisecond); !created.Equal(want) {
		t.Errorf("the file's stack counts as created %v, want %v", created, want)
	}
}

// TestLateLeaveRememberedForTheWholeRunTTL pins that a replica keeps when it heard of a
// stack's leaving for the run TTL, its last millisecond included.
// Guards against: reload.go:fileCreated `now-t <= m.runTTL` -> `now-t < m.runTTL`
func TestLateLeaveRememberedForTheWholeRunTTL(t *testing.T) {
	const ttl = 10 * time.Minute
	heard, created := lateLeave(t, ttl, ttl+time.Millisecond)
	if want := heard.Add(time.Millisecond); !created.Equal(want) {
		t.Errorf("the file's stack counts as created %v, want %v", created, want)
	}
}

// TestReloadChecksIssuerRules pins that a reload holds the file to the rules that read the
// issuer: under an IPv6-literal issuer, a file with an assume-role integration is refused and
// the catalog in force stays.
// Guards against: reload.go:reload builds the new file without the issuer
func TestReloadChecksIssuerRules(t *testing.T) {
	ctx := context.Background()
	m, err := catalog.NewManager(ctx, catalog.ManagerConfig{Store: catalog.NewMemory(),
		File: file(), Issuer: "https://[2001:db8::1]:8443"})
	if err != nil {
		t.Fatal(err)
	}
	in := awsIn("ar", "prod")
	in.AWS.Mode = config.AWSModeAssumeRole
	reloaded := file()
	reloaded.Integrations = append(reloaded.Integrations, in)
	_, err = m.Reload(ctx, reloaded)
	const refusal = "assume-role needs an issuer named by a host name"
	if err == nil || !strings.Contains(err.Error(), refusal) {
		t.Fatalf("Reload of a file with an assume-role integration under an IPv6 issuer: %v, "+
			"want refused", err)
	}
	if _, ok := m.Live().Load().Integration("ar"); ok {
		t.Error("the refused file's assume-role integration is in force")
	}
}
