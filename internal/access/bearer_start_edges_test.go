package access_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/brokerhq/broker/internal/access"
	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/runs"
)

// TestBearerRefusesAmbiguousHeaders checks that a request carrying the Authorization
// header any number of times other than once is refused, three or more times included, and
// that the scheme must be exactly "Bearer": no leading space, no tab or other whitespace
// glued to it before the single separating space.
// Guards against: the "more than one" refusal applied only to exactly two header values
// Guards against: leading spaces trimmed from the header before the scheme is cut off
// Guards against: whitespace trimmed from the scheme before comparing it with "Bearer"
func TestBearerRefusesAmbiguousHeaders(t *testing.T) {
	for _, tc := range []struct {
		name   string
		values []string
	}{
		{"three headers", []string{"Bearer a", "Bearer b", "Bearer c"}},
		{"three identical headers", []string{"Bearer a", "Bearer a", "Bearer a"}},
		{"leading space", []string{" Bearer tok-123"}},
		{"two leading spaces", []string{"  Bearer tok-123"}},
		{"tab after scheme", []string{"Bearer\t tok-123"}},
		{"leading tab", []string{"\tBearer tok-123"}},
		{"newline after scheme", []string{"Bearer\n tok-123"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range tc.values {
				h.Add("Authorization", v)
			}
			got, err := access.BearerToken(h)
			if !errors.Is(err, access.ErrUnauthenticated) || got != "" {
				t.Errorf("BearerToken(%q) = %q, %v; want ErrUnauthenticated", tc.values, got, err)
			}
		})
	}
}

// TestStartPastReadPhasesAnyOtherPhase checks that every phase other than the two read
// phases (and the empty one, which is INITIALIZING) counts as past them: FINISHED and a phase
// no row knows yet too, so starting a run there takes run:update as well as run:create.
// Guards against: StartsPastReadPhases listing the three write phases instead of excluding
// the read ones
func TestStartPastReadPhasesAnyOtherPhase(t *testing.T) {
	for _, tc := range []struct {
		phase runs.Phase
		want  bool
	}{
		{"", false},
		{runs.Initializing, false},
		{runs.Planning, false},
		{runs.Applying, true},
		{runs.Performing, true},
		{runs.Destroying, true},
		{runs.Finished, true},
		{"REVIEWING", true},
	} {
		if got := access.StartsPastReadPhases(tc.phase); got != tc.want {
			t.Errorf("StartsPastReadPhases(%q) = %v, want %v", tc.phase, got, tc.want)
		}
	}
	cfg := testConfig()
	cfg.Roles = append(cfg.Roles,
		config.Role{ID: "starter", Actions: []string{config.ActionRunCreate}})
	cfg.APIKeys = append(cfg.APIKeys, config.APIKey{ID: "start-only",
		SecretSHA256: hashHex("start-only-secret"),
		Bindings:     []config.Binding{{Role: "starter", Space: "prod"}}})
	cat, err := catalog.Build(catalog.Input{File: catalog.FileObjects(cfg)})
	if err != nil {
		t.Fatal(err)
	}
	a := cat.Access()
	for _, phase := range []runs.Phase{runs.Finished, "REVIEWING"} {
		run := runs.NewRun{Space: "prod", Type: runs.Tracked, Phase: phase}
		err := a.AllowedToStart(access.Principal{KeyID: "start-only"}, run)
		if !errors.Is(err, access.ErrForbidden) {
			t.Errorf("start-only key starting in %q: %v, want ErrForbidden", phase, err)
		}
	}
}

// TestStoredHashWithTrailingJunkMatchesNothing checks that a key whose stored
// secret_sha256 is a valid 64-digit hash followed by a stray digit or by non-hex characters
// authenticates no secret: a stored value that does not decode cleanly is unusable, even
// though its first 64 digits decode to the SHA-256 of the secret.
// Guards against: the hex decoding error ignored when the decoded prefix is 32 bytes long
func TestStoredHashWithTrailingJunkMatchesNothing(t *testing.T) {
	for _, suffix := range []string{"0", "zz", "g", "0x"} {
		a := access.Build(access.Input{
			Roles: []config.Role{{ID: "admin", Actions: []string{config.ActionSpaceAdmin}}},
			APIKeys: []config.APIKey{{ID: "junk", SecretSHA256: hashHex("junk-secret") + suffix,
				Bindings: []config.Binding{{Role: "admin", Space: "root"}}}},
			Paths: map[string][]string{"root": {"root"}},
		})
		if p, err := a.Authenticate("junk-secret"); !errors.Is(err, access.ErrUnauthenticated) {
			t.Errorf("stored hash + %q: Authenticate = %+v, %v; want ErrUnauthenticated",
				suffix, p, err)
		}
	}
}

// TestFailedAuthenticationNamesNoKey checks that a secret that authenticates nobody
// yields the zero Principal alongside the error, so a caller that slips and uses it names no
// key at all.
// Guards against: Authenticate returning a Principal with a key id alongside ErrUnauthenticated
func TestFailedAuthenticationNamesNoKey(t *testing.T) {
	a := newAuthorizer(t)
	for _, secret := range []string{"", "wrong", "admin-secret\n"} {
		p, err := a.Authenticate(secret)
		if !errors.Is(err, access.ErrUnauthenticated) || p != (access.Principal{}) {
			t.Errorf("Authenticate(%q) = %+v, %v; want the zero Principal and ErrUnauthenticated",
				secret, p, err)
		}
	}
}
