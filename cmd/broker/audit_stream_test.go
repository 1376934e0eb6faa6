package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/brokerhq/broker/internal/audit"
)

// trailServer is a broker as `broker audit verify` sees it: its discovery, its JWKS and a root
// trail of n events, made page by page as they are listed (so that it holds none of them): a
// checkpoint signed with the JWKS's key at every position 500 of a thousand, covering the events
// before it, and the events all of one recent time.
type trailServer struct {
	*httptest.Server
	n      int
	signer jose.Signer
	jwks   []byte
	at     string
	// lastPage, when set, runs before the last page of a listing is served.
	lastPage func()
	// mangle, when set, rewrites each page's JSON before it is served.
	mangle func([]byte) []byte

	mu   sync.Mutex
	next int    // position of the page the listing asks for next
	prev string // hash of the event before it
	// signed are the checkpoints' JWSs by position, so that every listing serves the same trail.
	signed map[int]string
}

func newTrailServer(t *testing.T, n int) *trailServer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key},
		(&jose.SignerOptions{}).WithType(audit.CheckpointType).WithHeader("kid", "k1"))
	if err != nil {
		t.Fatal(err)
	}
	jwks, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	if err != nil {
		t.Fatal(err)
	}
	s := &trailServer{n: n, signer: signer, jwks: jwks, at: time.Now().UTC().Format(time.RFC3339Nano), signed: map[int]string{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *trailServer) serve(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/.well-known/openid-configuration":
		json.NewEncoder(w).Encode(map[string]string{"issuer": s.URL, "jwks_uri": s.URL + "/jwks"})
	case "/jwks":
		w.Write(s.jwks)
	case "/v1/audit":
		s.mu.Lock()
		defer s.mu.Unlock()
		from, _ := strconv.Atoi(r.URL.Query().Get("after"))
		if from == 0 {
			s.next, s.prev = 0, "" // a new listing
		}
		if from != s.next {
			http.Error(w, "pages out of order", http.StatusBadRequest)
			return
		}
		page, err := s.page(from, min(from+1000, s.n))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		next := ""
		if s.next < s.n {
			next = strconv.Itoa(s.next)
		} else if s.lastPage != nil {
			s.lastPage()
		}
		body, _ := json.Marshal(map[string]any{"events": page, "next": next})
		if s.mangle != nil {
			body = s.mangle(body)
		}
		w.Write(body)
	default:
		http.NotFound(w, r)
	}
}

// page makes the events at positions from to to (excluded), linked to those before.
func (s *trailServer) page(from, to int) ([]audit.Event, error) {
	out := make([]audit.Event, 0, to-from)
	for p := from; p < to; p++ {
		e := audit.Event{ID: fmt.Sprintf("01JAAAAAAAAAAAAAAAA%07d", p), Time: s.at, Actor: "run:01JAAAAAAAAAAAAAAAAAAAAAAA",
			Action: "token.issue", Space: "prod", Stack: "vpc-prod", Run: "01JAAAAAAAAAAAAAAAAAAAAAAA", Outcome: audit.Success,
			Detail: "aud=sts.amazonaws.com jti=01JAAAAAAAAAAAAAAAAAAAAAAA", Prev: s.prev}
		if p%1000 == 500 {
			jws, err := s.checkpoint(p)
			if err != nil {
				return nil, err
			}
			e.Actor, e.Action, e.Space, e.Stack, e.Run, e.Detail = audit.CheckpointActor, audit.CheckpointAction, "root", "", "", jws
		}
		h, err := audit.Hash(e)
		if err != nil {
			return nil, err
		}
		out, s.prev = append(out, e), h
	}
	s.next = to
	return out, nil
}

// checkpoint is the JWS of the checkpoint at position p, covering the events before it.
func (s *trailServer) checkpoint(p int) (string, error) {
	if jws, ok := s.signed[p]; ok {
		return jws, nil
	}
	claim := fmt.Sprintf(`{"iss":%q,"count":%d,"tail":%q,"time":%q,"every":1000,"interval":60}`, s.URL, p, s.prev, s.at)
	obj, err := s.signer.Sign([]byte(claim))
	if err != nil {
		return "", err
	}
	jws, err := obj.CompactSerialize()
	s.signed[p] = jws
	return jws, err
}

// verifyAgainst runs `broker audit verify` with args against s in-process.
func verifyAgainst(s *trailServer, args ...string) (stdout, stderr string, err error) {
	var out, errOut bytes.Buffer
	vars := map[string]string{"BROKER_URL": s.URL, "BROKER_API_KEY": "k"}
	err = runAudit(context.Background(), env{stdout: &out, stderr: &errOut, getenv: func(k string) string { return vars[k] }}, append([]string{"verify"}, args...))
	return out.String(), errOut.String(), err
}

// fetchTrail lists the whole trail of space into memory, as `broker audit verify` did before it
// verified the pages as they came.
func (c *adminClient) fetchTrail(ctx context.Context, space string) ([]audit.Event, error) {
	var events []audit.Event
	err := c.listTrail(ctx, space, func(page []audit.Event) { events = append(events, page...) })
	return events, err
}

// TestAuditVerifyKeepsLittleOfEachEvent: `broker audit verify` verifies the pages of the trail
// as they come, so its memory does not grow with the trail: by the last page of 200,000 events
// the live heap has grown by far less than the events themselves (some 500 bytes each decoded).
func TestAuditVerifyKeepsLittleOfEachEvent(t *testing.T) {
	const n = 200_000
	s := newTrailServer(t, n)
	var before, last runtime.MemStats
	s.lastPage = func() {
		runtime.GC()
		runtime.ReadMemStats(&last)
	}
	runtime.GC()
	runtime.ReadMemStats(&before)
	stdout, stderr, err := verifyAgainst(s)
	if err != nil {
		t.Fatalf("verify: %v\n%s%s", err, stdout, stderr)
	}
	want := fmt.Sprintf("audit chain intact: %d events\nanchored: the first 199500 events, by checkpoint 01JAAAAAAAAAAAAAAAA0199500 (#199501) signed by key k1 at %s\nunanchored: 499 events after them, not covered by a checkpoint yet\n", n, s.at)
	if !bytes.HasPrefix([]byte(stdout), []byte(want)) {
		t.Errorf("stdout:\n%s\nwant it to begin:\n%s", stdout, want)
	}
	grew := int64(last.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("by the last page of %d events the live heap grew %d KiB, %d bytes an event", n, grew>>10, grew/n)
	if grew/n >= 100 {
		t.Errorf("the live heap grew %d bytes an event by the last page of %d: the verification holds the trail", grew/n, n)
	}
}

// TestAuditVerifyPrintsWhatTheWholeTrailShows: verified page by page, with and without the
// state of a verification before, a trail of several pages prints what its whole verification
// in memory shows.
func TestAuditVerifyPrintsWhatTheWholeTrailShows(t *testing.T) {
	s := newTrailServer(t, 3210)
	state := t.TempDir() + "/state.json"
	c := &adminClient{baseURL: s.URL, apiKey: "k", http: s.Client()}
	cfg, err := anchorConfig(context.Background(), c.http, c.baseURL, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{nil, {"--state", state}, {"--state", state}} {
		prior, err := readState(state)
		if err != nil {
			t.Fatal(err)
		}
		events, err := c.fetchTrail(context.Background(), "root")
		if err != nil {
			t.Fatal(err)
		}
		cfg.State, cfg.Now = prior, time.Now()
		r, err := audit.VerifyAnchored(events, cfg)
		if err != nil {
			t.Fatalf("%v: the whole trail: %v", args, err)
		}
		var want bytes.Buffer
		file := ""
		if len(args) > 0 {
			file = state
		}
		printReport(env{stdout: &want}, r, priorState{file: file, state: prior})
		if file != "" {
			fmt.Fprintf(&want, "state saved to %s\n", file)
		}
		stdout, stderr, err := verifyAgainst(s, args...)
		if err != nil || stdout != want.String() || stderr != "" {
			t.Errorf("%v: got %v\n%s%s\nwant\n%s", args, err, stdout, stderr, want.String())
		}
	}
}
