package api_test

import (
	"crypto"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/api"
	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/keys"
)

// rendezvous connects a signer and the trail within one test: each side marks when it starts,
// and can wait, a bounded time, for the other to have started.
type rendezvous struct {
	signOnce, recordOnce sync.Once
	signing, recording   chan struct{}
}

func newRendezvous() *rendezvous {
	return &rendezvous{signing: make(chan struct{}), recording: make(chan struct{})}
}

// rendezvousWait bounds each side's wait for the other: long enough for any scheduler, short
// enough that a token path doing one after the other fails the test quickly.
const rendezvousWait = 2 * time.Second

func waitFor(ch <-chan struct{}, what string) error {
	select {
	case <-ch:
		return nil
	case <-time.After(rendezvousWait):
		return fmt.Errorf("%s did not start within %s", what, rendezvousWait)
	}
}

func hasStarted(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// stepSigner signs through a rendezvous: step runs when a signature starts, and an error from
// it fails the signature.
type stepSigner struct {
	crypto.Signer
	step func() error
}

func (s stepSigner) Sign(rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if err := s.step(); err != nil {
		return nil, err
	}
	return s.Signer.Sign(rand, digest, opts)
}

// jtiOf returns the `jti` claim of a compact JWT.
func jtiOf(t *testing.T, jwt string) string {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q is not a compact JWS", jwt)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		JTI string `json:"jti"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c.JTI
}

// TestTokenRecordedWhileSigning: with RecordWhileSigning, a token's audit event is recorded
// while the token is signed (the signer and the trail each wait for the other to have started,
// which a path doing one after the other cannot satisfy), and still a token is handed out only
// when both its signature and its event succeeded. An event recorded for a token whose
// signature then failed is followed by one saying it was not handed out. Without the option the
// event is recorded after the signature, and a failed signature records nothing.
func TestTokenRecordedWhileSigning(t *testing.T) {
	errSigner := fmt.Errorf("%w: the key service is down", keys.ErrUnavailable)
	for _, tc := range []struct {
		name    string
		overlap bool // RecordWhileSigning
		// sign and record are the signer's and the trail's steps, given the rendezvous.
		sign, record func(*rendezvous) error
		wantCode     int
		wantIssued   int // token.issue events with outcome success
		wantFailed   int // token.issue events with outcome error (a token not handed out)
	}{
		{
			name: "event and signature at once", overlap: true,
			sign:     func(rv *rendezvous) error { return waitFor(rv.recording, "recording the event") },
			record:   func(rv *rendezvous) error { return waitFor(rv.signing, "the signature") },
			wantCode: http.StatusOK, wantIssued: 1,
		},
		{
			name: "event after the signature", overlap: false,
			sign: func(rv *rendezvous) error {
				if hasStarted(rv.recording) {
					return errors.New("the event was recorded before the signature")
				}
				return nil
			},
			record:   func(rv *rendezvous) error { return waitFor(rv.signing, "the signature") },
			wantCode: http.StatusOK, wantIssued: 1,
		},
		{
			name: "event refused while signing", overlap: true,
			sign:     func(*rendezvous) error { return nil },
			record:   func(*rendezvous) error { return errors.New("the trail is down") },
			wantCode: http.StatusServiceUnavailable,
		},
		{
			name: "signature failed after the event landed", overlap: true,
			sign: func(rv *rendezvous) error {
				if err := waitFor(rv.recording, "recording the event"); err != nil {
					return err
				}
				return errSigner
			},
			record:   func(*rendezvous) error { return nil },
			wantCode: http.StatusServiceUnavailable, wantIssued: 1, wantFailed: 1,
		},
		{
			name: "signature failed, event after it", overlap: false,
			sign:     func(*rendezvous) error { return errSigner },
			record:   func(*rendezvous) error { return nil },
			wantCode: http.StatusServiceUnavailable,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rv *rendezvous // set before the token request; the run's start signs nothing
			h := newRunsHarnessWith(t, harnessOptions{
				recordWhileSigning: tc.overlap,
				wrapSigner: func(s crypto.Signer) crypto.Signer {
					return stepSigner{Signer: s, step: func() error {
						rv.signOnce.Do(func() { close(rv.signing) })
						return tc.sign(rv)
					}}
				},
			})
			run := h.start(t, runs.Tracked, runs.Planning)
			rv = newRendezvous()
			h.events.mu.Lock()
			h.events.before = func(e api.Event) error {
				if e.Action != "token.issue" {
					return nil
				}
				rv.recordOnce.Do(func() { close(rv.recording) })
				if e.Outcome != "" { // the follow-up of a failed signature
					return nil
				}
				return tc.record(rv)
			}
			h.events.mu.Unlock()

			code, raw := h.rawCall(t, "/v1/token", run.RunToken, map[string]string{})
			if code != tc.wantCode {
				t.Fatalf("POST /v1/token: %d %s, want %d", code, raw, tc.wantCode)
			}
			var ans struct {
				Token string `json:"token"`
			}
			if err := json.Unmarshal(raw, &ans); err != nil {
				t.Fatalf("answer %s: %v", raw, err)
			}
			if code != http.StatusOK && ans.Token != "" {
				t.Fatalf("a failed request handed out a token: %s", raw)
			}
			issued, failed := h.eventsOf("token.issue", "success"), h.eventsOf("token.issue", "error")
			if len(issued) != tc.wantIssued || len(failed) != tc.wantFailed {
				t.Fatalf("token.issue events: %d success, %d error; want %d and %d", len(issued), len(failed), tc.wantIssued, tc.wantFailed)
			}
			if code == http.StatusOK && !strings.HasSuffix(issued[0].Detail, " jti="+jtiOf(t, ans.Token)) {
				t.Fatalf("event detail %q does not name the token's jti %s", issued[0].Detail, jtiOf(t, ans.Token))
			}
			if tc.wantFailed > 0 {
				want := issued[0].Detail + " not handed out: its signature failed"
				if failed[0].Detail != want || failed[0].Run.ID != run.Run.ID {
					t.Fatalf("follow-up event %+v, want detail %q for run %s", failed[0], want, run.Run.ID)
				}
			}
		})
	}
}

// TestTokenEventLeavesBeforeTheSignature: with RecordWhileSigning, a token's event has started
// when its signature starts, even when the goroutine that signs holds the only processor. A
// goroutine started for the event waits for that processor until the current one blocks, and a
// signature does not block: without a yield the event's round trip would leave after the
// signature whenever every core is busy. With one processor the scheduler still runs a globally
// queued goroutine first once in 61 turns, so the test makes 20 tokens and wants the event first
// for nearly all of them (a path that does not yield has it first for none).
func TestTokenEventLeavesBeforeTheSignature(t *testing.T) {
	const tokens, wantFirst = 20, 16
	var started atomic.Bool // set by the trail when a token's event is recorded
	var first atomic.Int32  // signatures that found their token's event started
	h := newRunsHarnessWith(t, harnessOptions{
		recordWhileSigning: true,
		wrapSigner: func(s crypto.Signer) crypto.Signer {
			return stepSigner{Signer: s, step: func() error {
				if started.Load() {
					first.Add(1)
				}
				return nil
			}}
		},
	})
	run := h.start(t, runs.Tracked, runs.Planning)
	h.events.mu.Lock()
	h.events.before = func(e api.Event) error {
		if e.Action == "token.issue" {
			started.Store(true)
		}
		return nil
	}
	h.events.mu.Unlock()
	first.Store(0)

	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	for range tokens {
		started.Store(false)
		if code, raw := h.rawCall(t, "/v1/token", run.RunToken, map[string]string{}); code != http.StatusOK {
			t.Fatalf("POST /v1/token: %d %s", code, raw)
		}
	}
	if n := first.Load(); n < wantFirst {
		t.Fatalf("the event had started before the signature for %d of %d tokens, want at least %d", n, tokens, wantFirst)
	}
}

// TestTokenOfARunFinishedWhileSigning: a run finished while its token is signed gets that token
// only if the token's event landed before the finish. An event is kept only while the run is
// unchanged, so when the event comes after the signature (always without RecordWhileSigning)
// the request reads the run again, finds it finished and answers 401; either way the trail has
// no token.issue after run.finish.
func TestTokenOfARunFinishedWhileSigning(t *testing.T) {
	for _, overlap := range []bool{false, true} {
		t.Run(fmt.Sprintf("record while signing %v", overlap), func(t *testing.T) {
			var hold atomic.Pointer[func()] // set once the run has started; called by its first signature
			h := newRunsHarnessWith(t, harnessOptions{
				recordWhileSigning: overlap,
				wrapSigner: func(s crypto.Signer) crypto.Signer {
					return stepSigner{Signer: s, step: func() error {
						if f := hold.Swap(nil); f != nil {
							(*f)()
						}
						return nil
					}}
				},
			})
			h.events.mu.Lock()
			h.events.holder = h.store
			h.events.mu.Unlock()
			run := h.start(t, runs.Tracked, runs.Applying)
			finish := func() {
				if code, e := h.call(t, request{path: "/v1/runs/" + run.Run.ID + "/finish", bearer: secretCreateUpdate}); code != http.StatusOK {
					t.Errorf("finish while the token is signed: %d %+v", code, e)
				}
			}
			hold.Store(&finish)
			code, raw := h.rawCall(t, "/v1/token", run.RunToken, map[string]string{})
			var trail []string
			for _, e := range h.events.all() {
				if e.Run.ID == run.Run.ID {
					trail = append(trail, e.Action)
				}
			}
			got := strings.Join(trail, " ")
			if !strings.HasSuffix(got, "run.finish") {
				t.Errorf("the run's trail: %s; want nothing issued after run.finish", got)
			}
			switch {
			case code == http.StatusOK && overlap && strings.HasSuffix(got, "token.issue run.finish"):
				// The event landed while the token was signed, before the finish.
			case code != http.StatusUnauthorized || strings.Contains(string(raw), `"token"`):
				t.Fatalf("token of a run finished while it was signed: %d %s (trail %s), want 401 and no token", code, raw, got)
			}
		})
	}
}
