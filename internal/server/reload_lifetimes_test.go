package server

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/config"
)

// buildUnserved builds, without serving it, a server of text on the memory store, its trail
// the memory trail as wrap wraps it (nil: the memory trail itself).
func buildUnserved(t *testing.T, text string, wrap func(*audit.Memory) audit.Store) *Server {
	t.Helper()
	cfg, err := config.Parse("test.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	opts := Options{Logger: slog.New(slog.DiscardHandler), Now: time.Now}
	state, err := openBackends(ctx, cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	mem, ok := state.audit.(*audit.Memory)
	if !ok {
		t.Fatalf("the memory store's trail is a %T", state.audit)
	}
	if wrap != nil {
		state.audit = wrap(mem)
	}
	s := &Server{cfg: cfg, log: opts.Logger, state: state, sweepEvery: DefaultSweepInterval}
	srv, err := s.build(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

// ttlConfigText is adminConfig with the given tokens.ttl, runs.ttl and extra integrations.
func ttlConfigText(tokenTTL, runTTL, integrations string) string {
	text := strings.NewReplacer("ISSUER", "http://127.0.0.1:1", "ALG", "ES256", "BACKEND", "memory",
		"PERIOD", "720h", "PREPUB", "1h", "RETAIN", "1h", "TOKENTTL", tokenTTL,
		"SHA_LIMITED", sha256Hex(limitedSecret), "SHA_AUDITOR", sha256Hex(auditorSecret),
		"  dir: KEYDIR\n", "", "runs:\n  ttl: 3h\n", "runs:\n  ttl: "+runTTL+"\n").Replace(adminConfig)
	return text + integrations
}

// With tokens.ttl or runs.ttl under 1m no Azure integration is accepted, from the file or the
// API. Both are read at start-up only, so a reload checks the file's Azure integrations against
// the lifetimes the server runs with, not against the new file's values, which are not applied:
// else the reload puts in force an Azure integration whose every exchange is refused.
func TestReloadAzureUnderShortLifetimes(t *testing.T) {
	const azure = "integrations:\n  - {id: az, space: prod, azure: {tenant_id: " +
		"00000000-0000-0000-0000-000000000000, client_id: " +
		"00000000-0000-0000-0000-000000000001}}\n"
	for _, tc := range []struct{ name, tokenTTL, runTTL string }{
		{"tokens.ttl 30s", "30s", "3h"},
		{"runs.ttl 30s", "15m", "30s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := buildUnserved(t, ttlConfigText(tc.tokenTTL, tc.runTTL, ""), nil)
			next, err := config.Parse("test.yaml", []byte(ttlConfigText("15m", "3h", azure)))
			if err != nil {
				t.Fatal(err)
			}
			err = srv.Reload(context.Background(), next, nil)
			if _, ok := srv.catalog.Live().Load().Integration("az"); ok || err == nil {
				t.Errorf("reload put Azure integration az in force (err %v) while the server "+
					"runs with tokens.ttl %s, runs.ttl %s", err, tc.tokenTTL, tc.runTTL)
			}
		})
	}
}
