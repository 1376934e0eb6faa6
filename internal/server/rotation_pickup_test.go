package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brokerhq/broker/keys"
)

// pickupPrepublish is the prepublish period of TestRotationPickupDelay.
const pickupPrepublish = 2 * time.Second

// TestRotationPickupDelay: two replicas share a key directory and a key is added to it by the
// code of `broker keys rotate --config` (server.OpenKeyBackend, server.KeyPolicy,
// keys.StartRotation) while they serve. A poller fetches the JWKS of both replicas continuously
// and a minter gets tokens from both continuously. No token signed by the new key may be issued
// within prepublish of a fetch that lacked it, and the new key must sign in the end.
//
// An instant is known only within its request: a token was signed before its answer arrived, a
// JWKS was computed after its request left. The test fails when a token's answer arrived less
// than prepublish after a lacking JWKS's request left: a certain breach of the rule.
//
// "on schedule": both replicas refresh every keys.RefreshInterval, and the rule holds across
// replicas (a fetch from either, a token from either). "one replica late": replica late refreshes
// every 3s, longer than the key's whole lead, so it publishes the key after the key's activation;
// its own tokens keep to the rule (it signs with the key only prepublish after publishing it), and
// so do the prompt replica's against the prompt replica's JWKS and the late one's against either.
// The prompt replica's tokens against the late replica's JWKS are outside the rule's reach: the
// key set is shared, publication is not, and only a replica that refreshes within
// keys.RefreshInterval can count on the others waiting for it.
func TestRotationPickupDelay(t *testing.T) {
	for _, tc := range []struct {
		name       string
		lateEvery  time.Duration // refresh interval of replica "late"; 0 for the normal one
		uncoveredF string        // fetches from this replica are not checked against...
		uncoveredT string        // ...tokens from this one
	}{
		{name: "on schedule"},
		{name: "one replica late", lateEvery: 3 * time.Second, uncoveredF: "late", uncoveredT: "prompt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A run in which a replica picked the key up before any of its JWKS fetches after the
			// save says nothing about the rule; on a loaded machine that happens: try again.
			for attempt := 1; attempt <= 3; attempt++ {
				if rotationPickup(t, tc.lateEvery, tc.uncoveredF, tc.uncoveredT) {
					return
				}
			}
			t.Fatal("in 3 attempts no replica's JWKS was fetched between the save and its pick-up: the test saw no pick-up delay")
		})
	}
}

// fetch is one JWKS request: when it left and returned, and whether the JWKS held the new key.
type fetch struct {
	replica    string
	start, end time.Time
	has        bool
}

// issued is one token request: when it returned and the key that signed the token.
type issued struct {
	replica string
	end     time.Time
	kid     string
}

// rotationPickup runs one rotation and checks the rule; it reports false, checking nothing, when
// some replica was never seen serving a JWKS without the new key after the save.
func rotationPickup(t *testing.T, lateEvery time.Duration, uncoveredF, uncoveredT string) bool {
	dir := t.TempDir()
	rot := &rotationOptions{"1h", pickupPrepublish.String(), "1h", "1m"}
	prompt := startServer(t, serverOptions{keyBackend: "file", keyDir: dir, rotation: rot})
	late := startServer(t, serverOptions{keyBackend: "file", keyDir: dir, rotation: rot, keyRefresh: lateEvery})
	replicas := map[string]*testServer{"prompt": prompt, "late": late}
	old := prompt.srv.Keys().Snapshot().Signing.KID
	if k := late.srv.Keys().Snapshot().Signing.KID; k != old {
		t.Fatalf("replicas sign with %s and %s before the rotation", old, k)
	}
	runTokens := map[string]string{}
	for name, ts := range replicas {
		runTokens[name] = ts.createRun(t, "vpc-prod", "TRACKED").RunToken
	}

	var (
		mu      sync.Mutex
		fetches []fetch
		tokens  []issued
		newKID  string // set once the rotation is saved
		errs    []error
	)
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for name, ts := range replicas {
		wg.Go(func() {
			for ctx.Err() == nil {
				start := time.Now()
				kids, err := servedKIDs(ts.URL)
				end := time.Now()
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else if newKID != "" {
					fetches = append(fetches, fetch{replica: name, start: start, end: end, has: kids[newKID]})
				}
				mu.Unlock()
				time.Sleep(2 * time.Millisecond)
			}
		})
		wg.Go(func() {
			for ctx.Err() == nil {
				kid, err := mintKID(ts.URL, runTokens[name])
				end := time.Now()
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					tokens = append(tokens, issued{replica: name, end: end, kid: kid})
				}
				mu.Unlock()
				time.Sleep(2 * time.Millisecond)
			}
		})
	}
	t.Cleanup(func() { stop(); wg.Wait() })

	// Rotate just after the late replica's refresh, so that it picks the key up as late as its
	// interval allows (the prompt one picks it up within keys.RefreshInterval).
	waitNextRefresh(t, late)
	backend, closeBackend, err := OpenKeyBackend(context.Background(), prompt.srv.cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer closeBackend()
	saved := time.Now()
	started, err := keys.StartRotation(context.Background(), keys.RotationConfig{
		Backend: backend, Policy: KeyPolicy(prompt.srv.cfg), Now: saved,
	})
	if err != nil || len(started) != 1 {
		t.Fatalf("rotate: %+v, %v", started, err)
	}
	mu.Lock()
	newKID = started[0].KID
	mu.Unlock()
	t.Logf("key %s saved at +0, activates at +%v; refresh intervals %v and %v",
		newKID, started[0].Activates.Sub(saved), prompt.srv.keyRefresh, late.srv.keyRefresh)

	// Run until both replicas have signed with the new key for a while.
	deadline := saved.Add(started[0].Activates.Sub(saved) + late.srv.keyRefresh + pickupPrepublish + 5*time.Second)
	for {
		mu.Lock()
		signed := map[string]bool{}
		for _, tok := range tokens {
			if tok.kid == newKID && tok.end.Before(time.Now().Add(-200*time.Millisecond)) {
				signed[tok.replica] = true
			}
		}
		mu.Unlock()
		if len(signed) == len(replicas) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("by +%v the new key signed only on %v", time.Since(saved), signed)
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d requests failed, first: %v", len(errs), errs[0])
	}

	// For each replica: its last fetch without the key, and its first token with it.
	lastLacking := map[string]fetch{}
	for _, f := range fetches {
		if !f.has && f.start.After(lastLacking[f.replica].start) {
			lastLacking[f.replica] = f
		}
	}
	firstSigned := map[string]issued{}
	for _, tok := range tokens {
		if tok.kid == newKID && (firstSigned[tok.replica].end.IsZero() || tok.end.Before(firstSigned[tok.replica].end)) {
			firstSigned[tok.replica] = tok
		}
	}
	for name := range replicas {
		if lastLacking[name].start.IsZero() {
			t.Logf("no fetch from %s lacked the new key: this run saw no pick-up delay", name)
			return false
		}
		t.Logf("%s: last JWKS without the key requested at +%v, first token with it at +%v",
			name, lastLacking[name].start.Sub(saved), firstSigned[name].end.Sub(saved))
	}
	if lateEvery > 0 {
		if d := lastLacking["late"].start.Sub(saved); d < keys.RefreshInterval(pickupPrepublish) {
			t.Fatalf("the late replica picked the key up %v after the save: not late", d)
		}
	}
	checked := 0
	for f, fl := range lastLacking {
		for tr, tok := range firstSigned {
			if f == uncoveredF && tr == uncoveredT {
				continue
			}
			checked++
			// Every token after the first is later still: the first is the one to check.
			if gap := tok.end.Sub(fl.start); gap < pickupPrepublish {
				t.Errorf("a token signed by the new key on %s (answered at +%v) came %v after a JWKS of %s without it (requested at +%v), want at least prepublish %v",
					tr, tok.end.Sub(saved), gap, f, fl.start.Sub(saved), pickupPrepublish)
			} else {
				t.Logf("%s's JWKS without the key to %s's first token with it: at most %v", f, tr, gap)
			}
		}
	}
	if checked < 3 {
		t.Fatalf("only %d replica pairs checked", checked)
	}
	return true
}

// waitNextRefresh returns just after ts's key manager next refreshed.
func waitNextRefresh(t *testing.T, ts *testServer) {
	t.Helper()
	at := ts.srv.Keys().Snapshot().At
	deadline := time.Now().Add(10 * time.Second)
	for ts.srv.Keys().Snapshot().At.Equal(at) {
		if time.Now().After(deadline) {
			t.Fatal("the key manager never refreshed")
		}
		time.Sleep(time.Millisecond)
	}
}

// servedKIDs fetches the JWKS at url and returns its KIDs.
func servedKIDs(url string) (map[string]bool, error) {
	resp, err := http.Get(url + "/.well-known/jwks")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var set struct{ Keys []struct{ Kid string } }
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil || resp.StatusCode != 200 {
		return nil, fmt.Errorf("jwks: status %d: %v", resp.StatusCode, err)
	}
	out := map[string]bool{}
	for _, k := range set.Keys {
		out[k.Kid] = true
	}
	return out, nil
}

// mintKID gets a token from url with runToken and returns the KID that signed it.
func mintKID(url, runToken string) (string, error) {
	req, err := http.NewRequest("POST", url+"/v1/token", bytes.NewReader([]byte(`{}`)))
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+runToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var ans tokenAnswer
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil || resp.StatusCode != 200 {
		return "", fmt.Errorf("token: status %d: %v", resp.StatusCode, err)
	}
	return headerKID(ans.Token)
}

// headerKID returns the kid of a compact JWS's header.
func headerKID(token string) (string, error) {
	head, _, ok := strings.Cut(token, ".")
	if !ok {
		return "", errors.New("token is not a compact JWS")
	}
	raw, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return "", fmt.Errorf("token header: %w", err)
	}
	var h struct {
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(raw, &h); err != nil || h.Kid == "" {
		return "", fmt.Errorf("token header has no kid: %v", err)
	}
	return h.Kid, nil
}
