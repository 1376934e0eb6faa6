package api

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// downLimiter is a limiter whose store is unreachable.
type downLimiter struct{}

func (downLimiter) Failed(context.Context, string) (time.Duration, error) {
	return 0, errors.New("limiter store down")
}

// TestGuardWithoutLimiter checks that a Guard that is nil or has no Limiter refuses with
// the caller's own error (no 429, no panic), and that a nil Guard still names the client.
// Guards against: guard.go: g.Limiter == nil check dropped
// Guards against: guard.go: nil Guard check dropped in Client
func TestGuardWithoutLimiter(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/v1/token", nil)
	r.RemoteAddr = "198.51.100.7:4000"
	r.Header.Set("Authorization", "Bearer brk_run_guess")
	cause := errors.New("bad")
	var none *Guard
	for name, g := range map[string]*Guard{"nil": none, "no limiter": {}} {
		if err := g.Failed(r, cause); err != cause {
			t.Errorf("%s guard: Failed = %v, want the cause", name, err)
		}
		if got := g.Client(r); got != "ip:198.51.100.7" {
			t.Errorf("%s guard: Client = %q, want ip:198.51.100.7", name, got)
		}
	}
}

// TestGuardLogsALimiterDownWithACredential checks that a limiter that cannot count the
// failure of a request presenting a credential is logged (operators must learn that failed
// logins go uncounted), while the request still gets its own refusal and the log never holds
// the credential.
// Guards against: guard.go: countPair's log condition inverted or dropped
func TestGuardLogsALimiterDownWithACredential(t *testing.T) {
	const secret = "brk_run_Sup3rS3cretTokenValue0123456789"
	var logs bytes.Buffer
	g := &Guard{Limiter: downLimiter{}, Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		StoreTimeout: time.Second}
	r := httptest.NewRequest(http.MethodPost, "/v1/token", nil)
	r.Header.Set("Authorization", "Bearer "+secret)
	cause := errors.New("bad")
	if err := g.Failed(r, cause); err != cause {
		t.Errorf("Failed = %v, want the cause", err)
	}
	if !strings.Contains(logs.String(), "could not count a failed authentication") {
		t.Errorf("a limiter that could not count was not logged: %q", logs.String())
	}
	if strings.Contains(logs.String(), secret[8:20]) {
		t.Errorf("the log holds the credential: %q", logs.String())
	}
}

// TestRequestIDTakesEveryAllowedCharacter checks that an incoming X-Request-Id made of the
// allowed characters, including the ends of each range (a, z, A, Z, 0, 9) and '-', '_', '.',
// is kept as sent, and that the characters just outside those ranges are not.
// Guards against: requestid.go: a range end dropped from isIDChar (c <= 'z' -> c < 'z' and the
// like)
func TestRequestIDTakesEveryAllowedCharacter(t *testing.T) {
	for _, tc := range []struct {
		id   string
		keep bool
	}{
		{"azAZ09-_.", true},
		{"z", true}, {"Z", true}, {"9", true}, {"a", true}, {"A", true}, {"0", true},
		{"`", false}, {"{", false}, {"@", false}, {"[", false}, {"/", false}, {":", false},
	} {
		r := httptest.NewRequest(http.MethodGet, "/x", nil)
		r.Header.Set(RequestIDHeader, tc.id)
		if got := requestID(r); (got == tc.id) != tc.keep {
			t.Errorf("X-Request-Id %q: id %q, kept = %v, want %v", tc.id, got, got == tc.id, tc.keep)
		}
	}
}

// TestRequestIDSurvivesWithGroup checks that a logger derived with WithGroup from a
// LogRequestIDs handler still stamps every line logged in a request with the request id.
// Guards against: requestid.go: WithGroup returns the unwrapped handler
func TestRequestIDSurvivesWithGroup(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(LogRequestIDs(slog.NewJSONHandler(&logs, nil))).WithGroup("g")
	log.InfoContext(WithRequestID(context.Background(), "req-grp"), "inside", "a", 1)
	if !strings.Contains(logs.String(), `"`+FieldRequestID+`":"req-grp"`) {
		t.Errorf("a grouped logger's line lacks the request id: %s", logs.String())
	}
}

// TestRefusalLimitWarnsOncePerWindow checks that an actor whose refusals stop being
// recorded is logged once for the window, not once per refusal left out (which would let one
// key flood the log instead of the trail), and again once in a later window that fills up.
// Guards against: refusal_limit.go: warning logged on every refusal left out (c.not == 1 -> >= 1)
func TestRefusalLimitWarnsOncePerWindow(t *testing.T) {
	var logs bytes.Buffer
	now := time.Unix(1_700_000_000, 0)
	l := &RefusalLimit{PerActor: 1, Window: time.Minute, Now: func() time.Time { return now },
		Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	ctx := context.Background()
	for range 5 {
		l.admitRefusal(ctx, "api_key:k")
	}
	if n := strings.Count(logs.String(), "no longer recorded"); n != 1 {
		t.Errorf("4 refusals left out in one window logged %d warnings, want 1:\n%s", n, logs.String())
	}
	now = now.Add(time.Minute)
	for range 3 {
		l.admitRefusal(ctx, "api_key:k")
	}
	if n := strings.Count(logs.String(), "no longer recorded"); n != 2 {
		t.Errorf("after a second window filled up: %d warnings, want 2:\n%s", n, logs.String())
	}
}

// TestRefusalLimitLeavesEmptyActorAlone checks that a refusal with no actor named is never
// left out by the per-actor limit, and is not tracked: it belongs to no actor that could be
// limited.
// Guards against: refusal_limit.go: actor == "" check dropped
func TestRefusalLimitLeavesEmptyActorAlone(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	l := &RefusalLimit{PerActor: 1, Window: time.Minute, Now: func() time.Time { return now },
		Logger: slog.New(slog.DiscardHandler)}
	for i := range 5 {
		if note, ok := l.admitRefusal(context.Background(), ""); !ok || note != "" {
			t.Fatalf("refusal %d without an actor: admitted %v, note %q", i+1, ok, note)
		}
	}
	if len(l.actors) != 0 {
		t.Errorf("refusals without an actor are tracked: %v", l.actors)
	}
}
