package redisstore_test

import (
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/redisstore"
	"github.com/brokerhq/broker/internal/runs"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// openSentinel returns a client of the primary that st's Sentinels watch, with the given
// prefix, closed when t ends.
func openSentinel(t testing.TB, st *redistest.Sentinel, prefix string) *redisstore.Client {
	t.Helper()
	client, err := redisstore.Open(redisstore.Options{
		Sentinel: &redisstore.Sentinel{Master: redistest.MasterName, Addrs: st.Addrs()},
		Timeout:  suiteTimeout, Prefix: prefix,
	})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = client.Close() })
	return client
}

// TestSentinelContracts runs the contract suite of every view (the catalog's with its change
// notices over pub/sub) on a primary found through Sentinel.
func TestSentinelContracts(t *testing.T) {
	st := redistest.StartSentinel(t)
	runViewContracts(t, func(t *testing.T, prefix string) *redisstore.Client { return openSentinel(t, st, prefix) })
}

// TestSentinelKeepsServerKeyNames checks that a Sentinel client finds what a client of the one
// server wrote with the same prefix: turning a server into a Sentinel-watched primary moves no
// data.
func TestSentinelKeepsServerKeyNames(t *testing.T) {
	ctx := t.Context()
	st := redistest.StartSentinel(t)
	prefix := uniquePrefix()
	single := open(t, st.Primary, prefix, suiteTimeout)
	run, token := createRun(t, single.Runs(), time.Hour)
	if _, err := single.Audit().Append(ctx, audit.Event{ID: "e1", Action: "test"}, []string{"root"}); err != nil {
		t.Fatalf("Append: %v", err)
	}
	sentinel := openSentinel(t, st, prefix)
	if got, err := sentinel.Runs().GetByToken(ctx, runs.HashToken(token)); err != nil || got.ID != run.ID {
		t.Errorf("Sentinel client GetByToken = %+v, %v; want the run the server client wrote", got, err)
	}
	if head, err := sentinel.Audit().Head(ctx); err != nil || head.Count != 1 {
		t.Errorf("Sentinel client audit head = %+v, %v; want the one event the server client wrote", head, err)
	}
}

// TestSentinelCatalogNoticesAfterFailover subscribes to catalog notices through Sentinel, kills
// the primary and checks that a commit on the promoted replica still reaches the subscriber:
// the subscription follows the failover on its own.
func TestSentinelCatalogNoticesAfterFailover(t *testing.T) {
	ctx := t.Context()
	st := redistest.StartSentinel(t)
	prefix := uniquePrefix()
	listener, writer := openSentinel(t, st, prefix).Catalog(), openSentinel(t, st, prefix).Catalog()
	notices := listener.Notify(ctx)
	time.Sleep(100 * time.Millisecond) // let the subscription reach the primary
	commit := func() error {
		head, err := writer.Head(ctx)
		if err != nil {
			return err
		}
		rec := catalog.Record{Ref: catalog.Ref{Kind: catalog.KindStack, ID: "s"}, Version: head.Revision + 1, Body: []byte(`{"id":"s"}`)}
		_, err = writer.Commit(ctx, head, []catalog.Change{{Record: rec}})
		return err
	}
	if err := commit(); err != nil {
		t.Fatalf("commit before the failover: %v", err)
	}
	select {
	case <-notices:
	case <-time.After(10 * time.Second):
		t.Fatal("no notice of a commit before the failover")
	}
	st.Primary.Kill()
	deadline := time.Now().Add(90 * time.Second)
	for {
		err := commit()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("commit still failing 90 s after the primary was killed: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The notice of the first commit was taken above, so the next one comes from the new
	// primary. The subscription may find it a moment after the writer: commit again each second.
	for {
		select {
		case _, ok := <-notices:
			if !ok {
				t.Fatal("the notice channel closed after the failover")
			}
			return
		case <-time.After(time.Second):
			if time.Now().After(deadline) {
				t.Fatal("no catalog notice after the failover")
			}
			if err := commit(); err != nil {
				t.Logf("commit: %v", err)
			}
		}
	}
}
