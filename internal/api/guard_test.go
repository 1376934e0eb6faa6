package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/apierror"
)

func TestCredentialKey(t *testing.T) {
	const run = "brk_run_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_xyz"
	const key = "brk_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_xyz"
	cases := []struct {
		name string
		a, b string
		same bool
	}{
		{"run tokens sharing 8 characters", run, run[:16] + strings.Repeat("z", len(run)-16), true},
		{"run tokens differing within 8 characters", run, run[:15] + "z" + run[16:], false},
		{"API keys sharing 8 characters", key, key[:12] + strings.Repeat("z", len(key)-12), true},
		{"API keys differing within 8 characters", key, key[:11] + "z" + key[12:], false},
		{"a run token is not an API key", run, "brk_" + run[8:], false},
		// At most a quarter of a short secret names its count: "test" and "tzzz" share one.
		{"short secrets share a quarter", "test", "tzzz", true},
		{"short secrets differ within a quarter", "test", "zest", false},
		{"tiny secrets share one count", "ab", "cd", true},
	}
	for _, tc := range cases {
		ka, kb := credentialKey(tc.a), credentialKey(tc.b)
		if (ka == kb) != tc.same {
			t.Errorf("%s: %q and %q, same = %v", tc.name, ka, kb, ka == kb)
		}
		if !strings.HasPrefix(ka, "cred:") || len(ka) != len("cred:")+16 {
			t.Errorf("%s: key %q, want cred: and 16 hex digits", tc.name, ka)
		}
		if len(tc.a) > 8 && (strings.Contains(ka, tc.a[8:12]) || strings.Contains(ka, tc.a[:4])) {
			t.Errorf("%s: key %q holds part of the secret", tc.name, ka)
		}
	}
}

// fakeLimiter answers each key with a fixed wait or error, optionally hangs until the
// context ends, and records the keys it was asked about.
type fakeLimiter struct {
	waits map[string]time.Duration // by key kind: "ip" or "cred"
	err   error
	hang  bool
	keys  []string
}

func (f *fakeLimiter) Failed(ctx context.Context, key string) (time.Duration, error) {
	f.keys = append(f.keys, key)
	if f.hang {
		<-ctx.Done()
		return 0, ctx.Err()
	}
	kind, _, _ := strings.Cut(key, ":")
	return f.waits[kind], f.err
}

func TestGuardFailed(t *testing.T) {
	cause := apierror.New(apierror.CodeUnauthenticated, "bad")
	cases := []struct {
		name      string
		bearer    string
		limiter   fakeLimiter
		wantKinds []string
		retry     int // 0: cause comes back; else a 429 with this Retry-After
	}{
		{"nothing blocked", "brk_run_guess", fakeLimiter{}, []string{"ip", "cred"}, 0},
		{"address blocked, prefix not counted", "brk_run_guess", fakeLimiter{waits: map[string]time.Duration{"ip": 1500 * time.Millisecond}}, []string{"ip"}, 2},
		{"prefix blocked", "brk_run_guess", fakeLimiter{waits: map[string]time.Duration{"cred": time.Minute}}, []string{"ip", "cred"}, 60},
		{"no bearer: address only", "", fakeLimiter{}, []string{"ip"}, 0},
		{"limiter down: the cause, not a 429", "brk_run_guess", fakeLimiter{err: errors.New("down"), waits: map[string]time.Duration{"ip": time.Minute}}, []string{"ip", "cred"}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var logs strings.Builder
			g := &Guard{Limiter: &tc.limiter, Logger: slog.New(slog.NewTextHandler(&logs, nil)), StoreTimeout: time.Second}
			r := httptest.NewRequest(http.MethodPost, "/v1/token", nil)
			if tc.bearer != "" {
				r.Header.Set("Authorization", "Bearer "+tc.bearer)
			}
			err := g.Failed(r, cause)
			var kinds []string
			for _, k := range tc.limiter.keys {
				kind, _, _ := strings.Cut(k, ":")
				kinds = append(kinds, kind)
			}
			if !slices.Equal(kinds, tc.wantKinds) {
				t.Errorf("counted %v, want %v", kinds, tc.wantKinds)
			}
			var ae *apierror.Error
			switch {
			case tc.retry == 0 && err != error(cause):
				t.Errorf("Failed = %v, want the cause", err)
			case tc.retry > 0 && (!errors.As(err, &ae) || ae.Code != apierror.CodeRateLimited || ae.RetryAfter != tc.retry):
				t.Errorf("Failed = %#v, want rate_limited with Retry-After %d", err, tc.retry)
			}
			if tc.bearer != "" && strings.Contains(logs.String(), tc.bearer) {
				t.Errorf("the credential reached the log: %s", logs.String())
			}
		})
	}
}

// TestGuardStoreTimeout: a limiter that hangs holds a refused request no longer than the
// configured store timeout.
func TestGuardStoreTimeout(t *testing.T) {
	var logs strings.Builder
	g := &Guard{Limiter: &fakeLimiter{hang: true}, Logger: slog.New(slog.NewTextHandler(&logs, nil)), StoreTimeout: 100 * time.Millisecond}
	r := httptest.NewRequest(http.MethodPost, "/v1/token", nil)
	start := time.Now()
	cause := errors.New("bad")
	if err := g.Failed(r, cause); err != cause {
		t.Errorf("Failed = %v, want the cause", err)
	}
	if elapsed := time.Since(start); elapsed < 100*time.Millisecond || elapsed > time.Second {
		t.Errorf("took %v with a 100ms store timeout", elapsed)
	}
	if !strings.Contains(logs.String(), "could not count") {
		t.Errorf("a limiter timeout was not logged: %s", logs.String())
	}
}
