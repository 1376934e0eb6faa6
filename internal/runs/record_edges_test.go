package runs_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/runs"
)

// TestEffectiveScopeMessageClipsAndQuotes pins that the error for an inconsistent run
// record repeats at most a short, quoted prefix of a stored name: a name of a few hundred bytes
// is cut, and one holding a newline or a quote is quoted, so a record edited outside broker
// cannot forge log lines or flood a log through the error text.
// Guards against: clip's length bound raised far above maxShown, phases.go:clip
// Guards against: odd names (newline, quote) no longer quoted, phases.go:clip
func TestEffectiveScopeMessageClipsAndQuotes(t *testing.T) {
	long := strings.Repeat("s", 300)
	forged := "write\nlevel=ERROR msg=\"forged\""
	for _, tc := range []struct {
		name string
		run  runs.Run
		bad  string // must not appear verbatim in the message
	}{
		{"long scope", runs.Run{ID: "01RUN", RunType: runs.Proposed, Phase: runs.Planning, Scope: runs.Scope(long)}, long},
		{"long phase", runs.Run{ID: "01RUN", RunType: runs.Tracked, Phase: runs.Phase(long), Scope: runs.Read}, long},
		{"newline in scope", runs.Run{ID: "01RUN", RunType: runs.Proposed, Phase: runs.Planning, Scope: runs.Scope(forged)}, "\n"},
		{"newline in type", runs.Run{ID: "01RUN", RunType: runs.Type(forged), Phase: runs.Planning, Scope: runs.Read}, "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.run.EffectiveScope()
			if err == nil {
				t.Fatal("EffectiveScope accepted an inconsistent record")
			}
			if msg := err.Error(); strings.Contains(msg, tc.bad) || len(msg) > 240 {
				t.Errorf("error repeats the stored name unclipped or unquoted (%d bytes): %q", len(msg), msg)
			}
		})
	}
}

// TestTokenIsBase64URL pins that a run token's secret part is unpadded base64url: with
// random bytes whose standard base64 would hold '/' and '+', the token holds neither and decodes
// with the URL alphabet to 32 bytes.
// Guards against: the token encoded with the standard alphabet, new.go:New
func TestTokenIsBase64URL(t *testing.T) {
	entropy := bytes.NewReader(bytes.Repeat([]byte{0xfb, 0xff, 0xbf}, 30))
	_, token, err := runs.New(runs.NewRun{Space: "prod", Stack: "vpc", Type: runs.Tracked,
		Now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), TTL: time.Hour, Entropy: entropy})
	if err != nil {
		t.Fatal(err)
	}
	secret, ok := strings.CutPrefix(token, runs.TokenPrefix)
	if !ok {
		t.Fatalf("token %q lacks prefix %q", token, runs.TokenPrefix)
	}
	if strings.ContainsAny(secret, "+/=") {
		t.Errorf("token secret %q holds characters outside unpadded base64url", secret)
	}
	raw, err := base64.RawURLEncoding.DecodeString(secret)
	if err != nil || len(raw) != 32 {
		t.Errorf("token secret decodes to %d bytes, %v; want 32 bytes", len(raw), err)
	}
}

// unreadableStore is a run store whose reads fail with an error that is neither ErrNotFound
// nor ErrUnavailable, and which counts the updates it is asked for.
type unreadableStore struct {
	runs.Store
	reads, updates int
}

func (s *unreadableStore) Get(context.Context, string) (runs.Run, error) {
	s.reads++
	return runs.Run{}, errors.New("decode run record: unexpected end of JSON input")
}

func (s *unreadableStore) Update(context.Context, string, func(runs.Run) (runs.Run, error)) (runs.Run, error) {
	s.updates++
	return runs.Run{}, errors.New("not reached")
}

// TestFinishWatchSkipsUnreadableRun pins that a watched run whose read fails (other than
// not found or unavailable) is left for the next check: nothing is written for it, the other
// watched runs are still read, and it stays watched.
// Guards against: the `err != nil` skip dropped from the read's switch, finished.go:Check
func TestFinishWatchSkipsUnreadableRun(t *testing.T) {
	store := &unreadableStore{}
	w := runs.NewFinishWatch(store, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	w.Note("run-a")
	w.Note("run-b")
	w.Check(context.Background())
	if store.updates != 0 || store.reads != 2 {
		t.Errorf("check of 2 unreadable runs: %d reads, %d updates; want 2 reads, 0 updates", store.reads, store.updates)
	}
	w.Check(context.Background())
	if store.reads != 4 {
		t.Errorf("second check read %d runs, want both again", store.reads-2)
	}
}

// TestTypesListsEveryRunType pins that Types names each run type ParseType accepts, once,
// in the order PROPOSED, TRACKED, TASK, DESTROY, and that each has a phase row: code that
// enumerates run types (the trust policies' subjects, say) then misses none.
// Guards against: a run type left out of Types, phases.go:Types
func TestTypesListsEveryRunType(t *testing.T) {
	want := []runs.Type{runs.Proposed, runs.Tracked, runs.Task, runs.Destroy}
	if got := runs.Types(); !slices.Equal(got, want) {
		t.Errorf("Types() = %v, want %v", got, want)
	}
	for _, ty := range want {
		if _, ok := runs.Phases(ty); !ok {
			t.Errorf("run type %s has no phase row", ty)
		}
	}
}

// TestNewZeroNowIsCurrentTime pins that a run started without a start time is stamped
// with the current time, so it lives for its TTL from now rather than being born expired.
// Guards against: the zero start time not replaced by time.Now, new.go:New
func TestNewZeroNowIsCurrentTime(t *testing.T) {
	before := time.Now().Add(-time.Second)
	run, _, err := runs.New(runs.NewRun{Space: "prod", Stack: "vpc", Type: runs.Tracked, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	after := time.Now().Add(time.Second)
	if run.CreatedAt.Before(before) || run.CreatedAt.After(after) {
		t.Errorf("CreatedAt = %s, want about %s", run.CreatedAt, time.Now())
	}
	if !run.ExpiresAt.After(after) {
		t.Errorf("ExpiresAt = %s is not an hour ahead", run.ExpiresAt)
	}
}
