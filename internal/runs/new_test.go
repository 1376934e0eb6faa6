package runs_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/brokerhq/broker/internal/runs"
	"github.com/oklog/ulid/v2"
)

var start = time.Date(2030, 1, 2, 3, 4, 5, 678_901_234, time.FixedZone("X", 3600))

func TestNewRun(t *testing.T) {
	run, token, err := runs.New(runs.NewRun{
		Space: "prod", Stack: "vpc-prod", Type: runs.Tracked, Now: start, TTL: 3 * time.Hour,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if len(run.ID) != ulid.EncodedSize {
		t.Errorf("id %q has %d chars, want %d", run.ID, len(run.ID), ulid.EncodedSize)
	}
	id, err := ulid.ParseStrict(run.ID)
	if err != nil {
		t.Fatalf("id %q is not a ULID: %v", run.ID, err)
	}
	if got, want := ulid.Time(id.Time()), start.Truncate(time.Millisecond); !got.Equal(want) {
		t.Errorf("ULID time = %s, want %s", got, want)
	}
	wantCreated := time.Date(2030, 1, 2, 2, 4, 5, 678_000_000, time.UTC)
	if run.CreatedAt != wantCreated {
		t.Errorf("CreatedAt = %s, want %s (UTC, ms)", run.CreatedAt, wantCreated)
	}
	if want := wantCreated.Add(3 * time.Hour); run.ExpiresAt != want {
		t.Errorf("ExpiresAt = %s, want %s", run.ExpiresAt, want)
	}
	if run.Space != "prod" || run.Stack != "vpc-prod" || run.RunType != runs.Tracked ||
		run.Phase != runs.Initializing || run.Scope != runs.Read {
		t.Errorf("run = %+v", run)
	}
	assertTokenShape(t, token)
}

func assertTokenShape(t *testing.T, token string) {
	t.Helper()
	raw, ok := strings.CutPrefix(token, runs.TokenPrefix)
	if !ok {
		t.Fatalf("token does not start with %q", runs.TokenPrefix)
	}
	secret, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil {
		t.Fatalf("token body is not unpadded base64url: %v", err)
	}
	if len(secret) != 32 {
		t.Errorf("token carries %d random bytes, want 32 (256 bits)", len(secret))
	}
}

func TestNewPhaseAndScope(t *testing.T) {
	tests := []struct {
		typ       runs.Type
		phase     runs.Phase
		wantScope runs.Scope
		wantErr   error
	}{
		{runs.Tracked, "", runs.Read, nil},
		{runs.Tracked, runs.Planning, runs.Read, nil},
		{runs.Tracked, runs.Applying, runs.Write, nil},
		{runs.Task, runs.Performing, runs.Write, nil},
		{runs.Proposed, runs.Planning, runs.Read, nil},
		{runs.Proposed, runs.Applying, "", runs.ErrInvalidPhase},
		{runs.Tracked, runs.Finished, "", runs.ErrInvalidPhase},
		{runs.Tracked, "planning", "", runs.ErrInvalidPhase},
		{"tracked", "", "", runs.ErrInvalidType},
	}
	for _, tt := range tests {
		run, _, err := runs.New(runs.NewRun{
			Space: "s", Stack: "st", Type: tt.typ, Phase: tt.phase, Now: start, TTL: time.Hour,
		})
		if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
			t.Errorf("New(%s, %q) error = %v, want %v", tt.typ, tt.phase, err, tt.wantErr)
			continue
		}
		if err == nil && run.Scope != tt.wantScope {
			t.Errorf("New(%s, %q) scope = %s, want %s", tt.typ, tt.phase, run.Scope, tt.wantScope)
		}
	}
}

func TestNewInvalid(t *testing.T) {
	valid := runs.NewRun{Space: "s", Stack: "st", Type: runs.Task, TTL: time.Hour}
	tests := []struct {
		name   string
		mutate func(*runs.NewRun)
	}{
		{"no space", func(c *runs.NewRun) { c.Space = "" }},
		{"no stack", func(c *runs.NewRun) { c.Stack = "" }},
		{"zero TTL", func(c *runs.NewRun) { c.TTL = 0 }},
		{"negative TTL", func(c *runs.NewRun) { c.TTL = -time.Second }},
	}
	for _, tt := range tests {
		cfg := valid
		tt.mutate(&cfg)
		if _, _, err := runs.New(cfg); !errors.Is(err, runs.ErrInvalidRun) {
			t.Errorf("%s: error = %v, want ErrInvalidRun", tt.name, err)
		}
	}
}

func TestNewEntropy(t *testing.T) {
	cfg := runs.NewRun{Space: "s", Stack: "st", Type: runs.Task, Now: start, TTL: time.Hour}

	cfg.Entropy = bytes.NewReader(bytes.Repeat([]byte{7}, 42))
	a, tokA, err := runs.New(cfg)
	if err != nil {
		t.Fatalf("New with 42 bytes of entropy: %v", err)
	}
	cfg.Entropy = bytes.NewReader(bytes.Repeat([]byte{7}, 42))
	b, tokB, err := runs.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if a.ID != b.ID || tokA != tokB {
		t.Error("the same entropy gave different ids or tokens")
	}
	assertTokenShape(t, tokA)

	cfg.Entropy = bytes.NewReader(make([]byte, 20)) // enough for the id, not the token
	if _, _, err := runs.New(cfg); err == nil {
		t.Error("New with short entropy succeeded")
	}
	cfg.Entropy = iotest.ErrReader(errors.New("no entropy"))
	if _, _, err := runs.New(cfg); err == nil {
		t.Error("New with failing entropy succeeded")
	}
}

func TestNewDistinct(t *testing.T) {
	ids, tokens := map[string]bool{}, map[string]bool{}
	for range 1000 {
		run, token, err := runs.New(runs.NewRun{
			Space: "s", Stack: "st", Type: runs.Task, Now: start, TTL: time.Hour,
		})
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		if tokens[token] || ids[run.ID] {
			t.Fatalf("duplicate id or token after %d calls", len(tokens))
		}
		ids[run.ID], tokens[token] = true, true
	}
}
