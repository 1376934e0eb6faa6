package exchange

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// fixedExchanger returns creds and err, recording whether it saw a token source.
type fixedExchanger struct {
	creds     Credentials
	err       error
	sawTokens *bool
}

func (x fixedExchanger) Exchange(_ context.Context, req Request) (Credentials, error) {
	if x.sawTokens != nil {
		*x.sawTokens = req.Tokens != nil
	}
	return x.creds, x.err
}

// TestObserveDefaultClock checks that an Observed built without a clock (as the server
// builds them) uses the wall clock: it hands back valid credentials and refuses expired ones.
// Guards against: Observe leaves a nil Now (no time.Now default)
func TestObserveDefaultClock(t *testing.T) {
	valid := Credentials{ExpiresAt: time.Now().Add(time.Hour), Env: map[string]string{"K": "v"}}
	o := Observe(fixedExchanger{creds: valid}, ObserveConfig{Provider: Vault})
	if creds, err := o.Exchange(context.Background(), Request{}); err != nil || creds.Env["K"] != "v" {
		t.Errorf("valid credentials: %+v, %v", creds, err)
	}
	expired := Credentials{ExpiresAt: time.Now().Add(-time.Hour), Env: map[string]string{"K": "v"}}
	o = Observe(fixedExchanger{creds: expired}, ObserveConfig{Provider: Vault})
	if creds, err := o.Exchange(context.Background(), Request{}); err == nil || creds.Env != nil {
		t.Errorf("expired credentials handed out: %+v, %v", creds, err)
	}
}

// TestObserveKeepsMissingTokenSourceMissing checks that a request without a token source
// reaches the exchanger without one, so that its own "no token source" check still holds
// (rather than a wrapper around nothing that panics when asked for a token).
// Guards against: Observe wraps req.Tokens even when it is nil
func TestObserveKeepsMissingTokenSourceMissing(t *testing.T) {
	saw := true
	o := Observe(fixedExchanger{sawTokens: &saw}, ObserveConfig{Provider: GCP})
	_, _ = o.Exchange(context.Background(), Request{})
	if saw {
		t.Error("the exchanger got a token source for a request that had none")
	}
}

// TestObserveKeepsTheExchangersError checks that when an exchanger fails, its own error is
// returned and classified, even if it also returned credentials that have expired.
// Guards against: the expiry check applied whatever the exchanger's error (`err == nil &&` dropped)
func TestObserveKeepsTheExchangersError(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	denied := Upstream(AWS, UpstreamAnswer{Status: http.StatusForbidden, Code: "AccessDenied"})
	x := fixedExchanger{creds: Credentials{ExpiresAt: now.Add(-time.Minute)}, err: denied}
	o := Observe(x, ObserveConfig{Provider: AWS, Now: func() time.Time { return now }})
	_, err := o.Exchange(context.Background(), Request{})
	if !errors.Is(err, denied) || Classify(err) != Denied {
		t.Errorf("Exchange error %v, want the exchanger's refusal", err)
	}
}

// signsThenFails signs one token, spends took upstream, then fails with err.
type signsThenFails struct {
	clock *steppedClock
	took  time.Duration
	err   error
}

func (x signsThenFails) Exchange(ctx context.Context, req Request) (Credentials, error) {
	if _, err := req.Tokens.Token(ctx, TokenRequest{}); err != nil {
		return Credentials{}, err
	}
	x.clock.now = x.clock.now.Add(x.took)
	return Credentials{}, x.err
}

// TestUpstreamRefusalTimed checks that an exchange whose token was signed but whose
// upstream call was refused made that call, so its upstream duration is observed.
// Guards against: timedTokens.upstream skips timing whenever the exchange failed
// (`&& t.failed` dropped)
func TestUpstreamRefusalTimed(t *testing.T) {
	clock := &steppedClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	refused := Upstream(AWS, UpstreamAnswer{Status: http.StatusForbidden, Code: "AccessDenied"})
	obs := &recordingObserver{}
	o := Observe(signsThenFails{clock: clock, took: 2 * time.Second, err: refused},
		ObserveConfig{Provider: AWS, Now: clock.Now})
	o.metrics.duration = obs
	fails := 0
	signer := timedSigner{clock: clock, took: time.Second, fails: &fails}
	if _, err := o.Exchange(context.Background(), Request{Tokens: signer}); err == nil {
		t.Fatal("refusal lost")
	}
	if len(obs.values) != 1 || obs.values[0] != 2 {
		t.Errorf("observed %v, want one observation of 2s", obs.values)
	}
}

// TestUsableWithoutAskedLifetime checks that, when broker asked for no lifetime, credentials
// however long they last are usable (only a lifetime asked for bounds them).
// Guards against: `a.Asked > 0 &&` dropped from the lifetime bound in Usable
func TestUsableWithoutAskedLifetime(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	err := Usable(Answer{Provider: Azure, From: "Entra ID", Now: now,
		ExpiresAt: now.Add(12 * time.Hour), Fields: []Field{{Name: "access_token", Value: "x"}}})
	if err != nil {
		t.Errorf("Usable = %v, want nil when no lifetime was asked for", err)
	}
}

// TestUsableNamesWhatIsMissing checks that a refusal names what is wrong: the empty field
// by its name, or the missing expiry.
// Guards against: the empty field's name dropped from the refusal
// Guards against: the zero-expiry case dropped (refused as expired instead)
func TestUsableNamesWhatIsMissing(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		name string
		a    Answer
		want string
	}{
		{"empty field", Answer{Fields: []Field{{Name: "SessionToken"}}, ExpiresAt: now.Add(time.Hour)},
			"STS answered credentials without SessionToken"},
		{"no expiry", Answer{Fields: []Field{{Name: "SessionToken", Value: "x"}}},
			"STS answered credentials without an expiry"},
	} {
		tc.a.Provider, tc.a.From, tc.a.Now = AWS, "STS", now
		err := Usable(tc.a)
		if err == nil || !strings.HasSuffix(err.Error(), tc.want) {
			t.Errorf("%s: Usable = %v, want one ending %q", tc.name, err, tc.want)
		}
	}
}

// TestLifetimeDefaultsToWallClock checks that a request without Now caps the lifetime by
// what the run has left on the wall clock.
// Guards against: Lifetime without the time.Now() default (the run's expiry then caps nothing)
func TestLifetimeDefaultsToWallClock(t *testing.T) {
	req := Request{}
	req.Integration.Duration = 2 * time.Hour
	req.Run.ExpiresAt = time.Now().Add(20 * time.Minute)
	got := Lifetime(req, time.Hour, time.Minute)
	if got > 20*time.Minute+time.Second || got < 10*time.Minute {
		t.Errorf("Lifetime = %v, want about the 20m the run has left", got)
	}
}
