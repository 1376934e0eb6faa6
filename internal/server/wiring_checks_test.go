package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/brokerhq/broker/internal/config"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"
)

// TestCatalogRevisionMetricFollowsChanges: broker_catalog_revision is the store revision
// of the catalog in force, read at scrape time: an administration change raises it by one.
// Guards against: metrics.go:registerMetrics broker_catalog_revision gauge returns 0
func TestCatalogRevisionMetricFollowsChanges(t *testing.T) {
	ts := startServer(t, serverOptions{baseYAML: adminConfig})
	before := value(t, scrape(t, ts), "broker_catalog_revision")
	got := ts.admin(t, "PUT", "/v1/roles/metric-role", `{"actions":["run:read"]}`)
	if got.code != 201 {
		t.Fatalf("PUT role: %d %s", got.code, got.body)
	}
	after := value(t, scrape(t, ts), "broker_catalog_revision")
	if before < 1 || after != before+1 {
		t.Errorf("broker_catalog_revision went from %v to %v over one change, want a revision "+
			"of at least 1 raised by one", before, after)
	}
}

// TestOpenKeyBackendRefusesUnreachableSets: a key set that lives inside each broker
// process (the memory backend, and vault-transit without store.redis) or a redis backend
// without store.redis cannot be opened from outside: OpenKeyBackend refuses each with an error
// naming the backend and why, and hands back no backend.
// Guards against: keyaccess.go:OpenKeyBackend vault-transit / redis messages swapped
// Guards against: keyaccess.go:OpenKeyBackend cfg.Store.Redis == nil check dropped (nil
// dereference)
func TestOpenKeyBackendRefusesUnreachableSets(t *testing.T) {
	for _, tc := range []struct {
		backend string
		store   *config.Store
		want    string
	}{
		{config.BackendMemory, nil, "keys.backend memory keeps the key set inside each broker"},
		{config.BackendVaultTransit, nil, "vault-transit without store.redis"},
		{config.BackendVaultTransit, &config.Store{}, "vault-transit without store.redis"},
		{config.BackendRedis, nil, "keys.backend redis needs store.redis"},
		{config.BackendRedis, &config.Store{}, "keys.backend redis needs store.redis"},
		{"hsm", nil, `keys.backend "hsm" is not supported`},
	} {
		cfg := &config.Config{Store: tc.store, Keys: config.Keys{Backend: tc.backend}}
		b, closeB, err := OpenKeyBackend(context.Background(), cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) || b != nil || closeB != nil {
			t.Errorf("%s (store %v): backend %v, close set %v, err %v; want only an error "+
				"saying %q", tc.backend, tc.store, b, closeB != nil, err, tc.want)
		}
	}
}

// TestKeyEncryptionKeyNeedsASource: without keys.redis, or with neither
// encryption_key_file nor encryption_key_env set, there is no key encryption key: the redis
// key backend is refused with an error saying what to set, never opened without one.
// Guards against: kek.go:keyEncryptionKey r == nil case dropped (nil dereference)
// Guards against: kek.go:keyEncryptionKey default case returns no error
func TestKeyEncryptionKeyNeedsASource(t *testing.T) {
	lookup := func(string) (string, bool) { return testKEK, true }
	for _, tc := range []struct {
		name string
		r    *config.KeysRedis
		want string
	}{
		{"no keys.redis", nil, "needs encryption_key_file or encryption_key_env"},
		{"neither set", &config.KeysRedis{}, "set encryption_key_file or encryption_key_env"},
	} {
		kek, err := keyEncryptionKey(tc.r, lookup)
		if err == nil || kek != nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: key %v, err %v; want an error saying %q", tc.name, kek != nil, err,
				tc.want)
		}
	}
}

// TestAssumeRoleExternalIDNamesTheIssuer: in assume-role mode the ExternalId broker
// sends to STS starts with its issuer's host, then the integration and the stack, so a role's
// trust policy can tell this broker's runs from another's.
// Guards against: exchangers.go:newExchangers aws.Options Issuer dropped
func TestAssumeRoleExternalIDNamesTheIssuer(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "ASIAZZPROBEBROKER001")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "zztestsecretaccesskey01234567890abcdefgh")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	var mu sync.Mutex
	var external []string
	sts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		mu.Lock()
		external = append(external, r.PostForm.Get("ExternalId"))
		mu.Unlock()
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>`+
			`<Message>no</Message></Error><RequestId>r</RequestId></ErrorResponse>`)
	}))
	defer sts.Close()
	ts := startServer(t, serverOptions{extraYAML: fmt.Sprintf(`
integrations:
  - {id: aws-assume, space: prod, aws: {mode: assume-role,
     role_arn: "arn:aws:iam::123456789012:role/r", sts_endpoint: %q}}
attachments:
  - {stack: vpc-prod, integration: aws-assume, read: true}
`, sts.URL)})
	run := ts.createRun(t, "vpc-prod", "TRACKED")
	ts.credentials(t, run.RunToken, "aws", "")
	mu.Lock()
	defer mu.Unlock()
	want := config.IssuerHost(ts.URL) + "@aws-assume@vpc-prod@"
	if len(external) == 0 || !strings.HasPrefix(external[0], want) {
		t.Errorf("ExternalIds sent to STS: %q, want one beginning %q", external, want)
	}
}

// TestRedisHookCountsFailedCommands: a command counts one failure when it ends with an
// error, whether the error is returned or only set on the command, and none when it ends with
// a missing key.
// Guards against: metrics.go:ProcessHook err = cmd.Err() when next returns nil dropped
func TestRedisHookCountsFailedCommands(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		set    error // set on the command
		ret    error // returned by the next hook
		counts float64
	}{
		{"error set on the command only", errors.New("dial tcp: refused"), nil, 1},
		{"error returned", nil, errors.New("dial tcp: refused"), 1},
		{"missing key set on the command", redis.Nil, nil, 0},
	} {
		c := prometheus.NewCounter(prometheus.CounterOpts{Name: "test_errors"})
		process := redisErrorHook{c}.ProcessHook(
			func(context.Context, redis.Cmder) error { return tc.ret })
		cmd := redis.NewStringCmd(ctx, "get", "k")
		if tc.set != nil {
			cmd.SetErr(tc.set)
		}
		_ = process(ctx, cmd)
		if got := testutil.ToFloat64(c); got != tc.counts {
			t.Errorf("%s: counted %v, want %v", tc.name, got, tc.counts)
		}
	}
}

// TestRedisHookCountsFailedPipelines: a pipeline counts one failure when one of its
// commands failed or when the pipeline itself failed with an error set on none of them (a dial
// failure), and none when it lost an optimistic transaction.
// Guards against: metrics.go:ProcessPipelineHook failedWith(cmds[0], err) dropped
func TestRedisHookCountsFailedPipelines(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		ret    error
		counts float64
	}{
		{"dial failure returned, set on no command", errors.New("dial tcp: refused"), 1},
		{"lost optimistic transaction", redis.TxFailedErr, 0},
		{"no error", nil, 0},
	} {
		c := prometheus.NewCounter(prometheus.CounterOpts{Name: "test_errors"})
		process := redisErrorHook{c}.ProcessPipelineHook(
			func(context.Context, []redis.Cmder) error { return tc.ret })
		cmds := []redis.Cmder{redis.NewStringCmd(ctx, "get", "a"),
			redis.NewStringCmd(ctx, "get", "b")}
		_ = process(ctx, cmds)
		if got := testutil.ToFloat64(c); got != tc.counts {
			t.Errorf("%s: counted %v, want %v", tc.name, got, tc.counts)
		}
	}
}
