package redisstore_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/redisstore"
	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// suiteTimeout bounds each call in the functional tests: generous, since it only has to keep
// a stuck test from hanging (the outage tests use a short one).
const suiteTimeout = 5 * time.Second

// prefixSeq numbers the key prefixes of the clients a test binary opens.
var prefixSeq atomic.Int64

// uniquePrefix returns a key prefix no other client of this test binary uses.
func uniquePrefix() string { return fmt.Sprintf("test%d:", prefixSeq.Add(1)) }

// open returns a client of srv with the given prefix and timeout, closed when t ends.
func open(t testing.TB, srv *redistest.Server, prefix string, timeout time.Duration) *redisstore.Client {
	t.Helper()
	c, err := redisstore.Open(redisstore.Options{URL: srv.URL(), Timeout: timeout, Prefix: prefix})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// newRun builds a run of type typ living ttl from now, and its token.
func newRun(t testing.TB, typ runs.Type, ttl time.Duration) (runs.Run, string) {
	t.Helper()
	run, token, err := runs.New(runs.NewRun{Space: "prod", Stack: "vpc-prod", Type: typ, TTL: ttl})
	if err != nil {
		t.Fatalf("runs.New: %v", err)
	}
	return run, token
}

// createRun builds a run as newRun does and stores it in store.
func createRun(t testing.TB, store runs.Store, ttl time.Duration) (runs.Run, string) {
	t.Helper()
	run, token := newRun(t, runs.Tracked, ttl)
	if err := store.Create(context.Background(), run, runs.HashToken(token)); err != nil {
		t.Fatalf("Create: %v", err)
	}
	return run, token
}

// moveTo is an Update function moving a run to phase p if the phase machine allows it.
func moveTo(p runs.Phase) func(runs.Run) (runs.Run, error) {
	return func(r runs.Run) (runs.Run, error) { return r.MoveTo(p) }
}

// newKEK returns a fresh random key encryption key.
func newKEK(t testing.TB) *redisstore.KeyEncryptionKey {
	t.Helper()
	secret := make([]byte, redisstore.KeyEncryptionKeySize)
	_, _ = rand.Read(secret) // crypto/rand.Read never fails
	kek, err := redisstore.NewKeyEncryptionKey(secret)
	if err != nil {
		t.Fatalf("NewKeyEncryptionKey: %v", err)
	}
	return kek
}
