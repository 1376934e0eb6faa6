package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/go-jose/go-jose/v4"

	"github.com/brokerhq/broker/internal/audit"
)

// anchorConfig reads the issuer from the broker's discovery document, and the JWKS from the
// jwks_uri it names, or from jwksFile when set.
func anchorConfig(ctx context.Context, client *http.Client, base, jwksFile string) (audit.AnchorConfig, error) {
	var disc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := getJSON(ctx, client, jsonRequest{url: base + "/.well-known/openid-configuration"}, &disc); err != nil {
		return audit.AnchorConfig{}, fmt.Errorf("discovery: %w", err)
	}
	if disc.Issuer == "" || disc.JWKSURI == "" {
		return audit.AnchorConfig{}, errors.New("discovery names no issuer or jwks_uri")
	}
	var set jose.JSONWebKeySet
	if jwksFile != "" {
		raw, err := readInput(jwksFile, maxSmallFileBytes)
		if err != nil {
			return audit.AnchorConfig{}, fmt.Errorf("--jwks: %w", err)
		}
		if err := json.Unmarshal(raw, &set); err != nil {
			return audit.AnchorConfig{}, fmt.Errorf("--jwks %s is not a JWKS: %w", jwksFile, err)
		}
		var members map[string]json.RawMessage
		if err := json.Unmarshal(raw, &members); err != nil || members["keys"] == nil {
			// {} or another JSON object is no key set, though it decodes as an empty one.
			return audit.AnchorConfig{}, fmt.Errorf("--jwks %s is not a JWKS: it has no \"keys\" member", jwksFile)
		}
	} else if err := getJSON(ctx, client, jsonRequest{url: disc.JWKSURI}, &set); err != nil {
		return audit.AnchorConfig{}, fmt.Errorf("JWKS at %s (or pass --jwks FILE): %w", disc.JWKSURI, err)
	}
	return audit.AnchorConfig{Issuer: disc.Issuer, Keys: &set}, nil
}

// priorState is what a verification checked the trail against: the --state file and what the
// verification before saved there.
type priorState struct {
	// file is the --state file; empty when none was given.
	file string
	// state is what file held; nil when there was no file or it did not exist yet.
	state *audit.State
}

// printReport says what is anchored, what is not, which checkpoints could not be checked and
// what the trail was checked against.
func printReport(e env, r audit.Report, prior priorState) {
	fmt.Fprintf(e.stdout, "audit chain intact: %d events\n", r.Events)
	if r.Latest == nil {
		fmt.Fprintf(e.stdout, "anchored: none, no checkpoint verifies yet; all %d events are unanchored\n", r.Unanchored)
	} else {
		fmt.Fprintf(e.stdout, "anchored: the first %d events, by checkpoint %s (#%d) signed by key %s at %s\n",
			r.Anchored, r.Latest.Event.ID, r.Latest.At+1, r.Latest.KID, r.Latest.Claim.Time)
		fmt.Fprintf(e.stdout, "unanchored: %d events after them, not covered by a checkpoint yet\n", r.Unanchored)
	}
	if r.LateAnchors > 0 {
		fmt.Fprintf(e.stdout, "warning: %d %s events (the last #%d): a replica that started anchored events that followed the latest checkpoint later than the schedule allows: checkpoints were removed (perhaps to hide a rewrite), or every replica stopped before signing them; a --state saved before tells which\n",
			r.LateAnchors, audit.LateAnchorAction, r.LastLateAnchor+1)
	}
	covered := 0
	for _, a := range r.Unverifiable {
		if r.Latest != nil && a.At < r.Latest.At {
			covered++
			continue
		}
		fmt.Fprintf(e.stdout, "warning: checkpoint %s (#%d) is signed by key %s, which the JWKS does not publish (any more): it cannot be verified\n",
			a.Event.ID, a.At+1, a.KID)
	}
	if covered > 0 {
		fmt.Fprintf(e.stdout, "note: %d earlier checkpoints are signed by keys the JWKS no longer publishes; the latest checkpoint covers their events\n", covered)
	}
	switch {
	case prior.file == "":
		fmt.Fprintln(e.stdout, "hint: with --state FILE the next verification also finds events removed since this one")
	case prior.state == nil:
		fmt.Fprintf(e.stdout, "state: %s did not exist; this is the first verification against it\n", prior.file)
	default:
		fmt.Fprintf(e.stdout, "state: the trail still begins with the %d events verified last time\n", prior.state.Count)
	}
}

// readState reads a state file; nil when path is empty or the file does not exist yet.
func readState(path string) (*audit.State, error) {
	if path == "" {
		return nil, nil
	}
	raw, err := readInput(path, maxSmallFileBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("--state: %w", err)
	}
	var s audit.State
	if err := json.Unmarshal(raw, &s); err != nil || s.Issuer == "" {
		return nil, fmt.Errorf("--state %s is not a state this command saved", path)
	}
	if err := checkStateShape(s); err != nil {
		return nil, fmt.Errorf("--state %s is not a state this command saved: %w", path, err)
	}
	return &s, nil
}

// checkStateShape holds a state to what writeState saves: a count of zero or more, and a tail
// that is the hex SHA-256 (64 lowercase hex characters) of the last event when the count is
// above zero, and empty when it is zero.
func checkStateShape(s audit.State) error {
	switch {
	case s.Count < 0:
		return fmt.Errorf("its count is %d, below zero", s.Count)
	case s.Count == 0 && s.Tail != "":
		return errors.New("its count is 0 but it names a tail hash")
	case s.Count > 0 && !isHashHex(s.Tail):
		return fmt.Errorf("its tail is not 64 lowercase hex characters (a SHA-256) for its %d events", s.Count)
	}
	return nil
}

// isHashHex reports whether s is a SHA-256 in lowercase hex, as audit.Hash writes it.
func isHashHex(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	for _, c := range []byte(s) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// writeState replaces the state file atomically (mode 0600).
func writeState(path string, s audit.State) error {
	raw, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".broker-audit-state-*")
	if err != nil {
		return fmt.Errorf("--state: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(raw, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("--state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("--state: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("--state: %w", err)
	}
	return nil
}

// unpublishedNote adds to err, a failure of the checkpoint schedule, the checkpoints past the
// latest that verifies whose keys the JWKS does not publish: a JWKS other than the broker's
// (or an old copy) makes every checkpoint unverifiable, and the failure then says so rather
// than only blame removed or replaced checkpoints. It still fails: a forged checkpoint, too,
// names a key the JWKS does not hold.
func unpublishedNote(err error, r audit.Report) error {
	var kids []string
	n := 0
	for _, a := range r.Unverifiable {
		if r.Latest != nil && a.At < r.Latest.At {
			continue
		}
		n++
		if !slices.Contains(kids, a.KID) {
			kids = append(kids, a.KID)
		}
	}
	if n == 0 {
		return err
	}
	return fmt.Errorf("%w; %d checkpoints past it are signed by keys the JWKS does not publish (%s): verified against the JWKS of the broker that signed them they may hold, otherwise they are forged",
		err, n, strings.Join(kids, ", "))
}
