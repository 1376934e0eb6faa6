package server

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// auditEvents pages through GET /v1/audit for space with the auditor key.
func auditEvents(t *testing.T, ts *testServer, space string, pageSize int) []audit.Event {
	t.Helper()
	var all []audit.Event
	after := ""
	for page := 0; page < 1000; page++ {
		var ans struct {
			Events []audit.Event `json:"events"`
			Next   string        `json:"next"`
		}
		q := url.Values{"space": {space}, "limit": {strconv.Itoa(pageSize)}}
		if after != "" {
			q.Set("after", after)
		}
		if code := ts.call(t, apiRequest{method: "GET", path: "/v1/audit?" + q.Encode(), bearer: auditorSecret, out: &ans}); code != 200 {
			t.Fatalf("audit listing: %d", code)
		}
		all = append(all, ans.Events...)
		if ans.Next == "" {
			return all
		}
		after = ans.Next
	}
	t.Fatal("audit paging never ends")
	return nil
}

func TestAuditTrail(t *testing.T) {
	ts := startServer(t, serverOptions{})
	run := ts.createRun(t, "app-a", "TRACKED") // space team-a, under prod
	tok, _ := ts.mint(t, run.RunToken, "sts.amazonaws.com")
	ts.setPhase(t, run.Run.ID, "APPLYING")
	ts.setPhase(t, run.Run.ID, "PLANNING") // refused: backwards
	ts.call(t, apiRequest{method: "POST", path: "/v1/runs/" + run.Run.ID + "/finish", bearer: adminSecret})
	var devRun runAnswer
	ts.call(t, apiRequest{method: "POST", path: "/v1/runs", bearer: limitedSecret, body: map[string]string{"stack": "app-dev", "runType": "TASK"}, out: &devRun})

	all := auditEvents(t, ts, "root", 2)
	if err := audit.Verify(all); err != nil {
		t.Fatalf("chain: %v", err)
	}
	if len(all) == 0 || all[0].Prev != "" {
		t.Fatalf("first event %+v: prev must be empty", all)
	}
	// The replica's first act is creating the signing key: that is the chain's first event.
	if k := all[0]; k.Action != "keys.rotate" || k.Actor != "system:keys" || k.Space != "root" || !strings.Contains(k.Detail, "generation 1: key ") {
		t.Fatalf("first event %+v, want the bootstrap key", k)
	}
	all = all[1:]
	var actions []string
	for _, e := range all {
		actions = append(actions, e.Action+"/"+e.Outcome)
		if e.ID == "" || e.Time == "" || e.Actor == "" || e.Run == "" || e.Space == "" || e.Stack == "" {
			t.Errorf("incomplete event %+v", e)
		}
		raw, _ := json.Marshal(e)
		for name, secret := range map[string]string{"run token": run.RunToken, "jwt": tok.Token, "api key": adminSecret + `"`} {
			if strings.Contains(string(raw), secret) {
				t.Errorf("event %s holds the %s", e.ID, name)
			}
		}
	}
	want := []string{"run.create/success", "token.issue/success", "run.phase/success", "run.phase/denied", "run.finish/success", "run.create/success"}
	if strings.Join(actions, " ") != strings.Join(want, " ") {
		t.Errorf("actions %v, want %v", actions, want)
	}
	if all[0].Actor != "api_key:ci" || all[1].Actor != "run:"+run.Run.ID || all[0].Space != "team-a" || all[0].Stack != "app-a" {
		t.Errorf("first events %+v %+v", all[0], all[1])
	}

	// A space's listing holds its subtree only: prod sees team-a's run, not dev's.
	prod := auditEvents(t, ts, "prod", 100)
	if len(prod) != 5 { // key events live in root only
		t.Errorf("prod lists %d events, want the 5 of app-a", len(prod))
	}
	for _, e := range prod {
		if e.Space != "team-a" {
			t.Errorf("prod listing holds %+v", e)
		}
	}
	if dev := auditEvents(t, ts, "dev", 100); len(dev) != 1 || dev[0].Prev == "" {
		t.Errorf("dev listing %+v: one event whose prev points outside it", dev)
	}

	cases := []struct {
		name, query, secret string
		want                int
	}{
		{"no audit:read", "?space=prod", adminSecret, 403},
		{"binding below root", "?space=root", limitedSecret, 403},
		{"unknown space", "?space=nope", auditorSecret, 404},
		{"unknown space, for a key that may read no space it could be under", "?space=nope", adminSecret, 403},
		{"bad cursor", "?space=root&after=xyz", auditorSecret, 400},
		{"limit zero", "?space=root&limit=0", auditorSecret, 400},
		{"limit too large", "?space=root&limit=5000", auditorSecret, 400},
		{"no key", "?space=root", "", 401},
		{"default space is root", "", auditorSecret, 200},
	}
	for _, tc := range cases {
		if code := ts.call(t, apiRequest{method: "GET", path: "/v1/audit" + tc.query, bearer: tc.secret}); code != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, code, tc.want)
		}
	}
}

// TestAuditOneChainAcrossReplicas: replicas appending at once on one Redis make one unbroken chain.
func TestAuditOneChainAcrossReplicas(t *testing.T) {
	redis := redistest.Start(t)
	rs := startReplicas(t, 3, serverOptions{redisURL: redis.URL(), keyBackend: "redis"})
	run := rs[0].createRun(t, "vpc-prod", "TRACKED")
	var wg sync.WaitGroup
	for i := 0; i < 30; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, code := rs[i%3].mint(t, run.RunToken, ""); code != 200 {
				t.Errorf("mint: %d", code)
			}
		}()
	}
	wg.Wait()
	all := auditEvents(t, rs[2], "root", 7)
	if len(all) != 32 {
		t.Fatalf("%d events, want 32 (the first key, one create, 30 tokens)", len(all))
	}
	if err := audit.Verify(all); err != nil {
		t.Fatalf("chain across replicas: %v", err)
	}
	if all[0].Prev != "" {
		t.Errorf("first prev %q", all[0].Prev)
	}
}

// TestAuditOfASpaceCreatedAgain: a space deleted and created again under the same id (through
// the API only under its old parent, in the file under another) does not list the events of
// the space that had the id before; the old space's parent still does.
func TestAuditOfASpaceCreatedAgain(t *testing.T) {
	ctx := context.Background()
	space := catalog.Ref{Kind: catalog.KindSpace, ID: "secret-proj"}
	stack := catalog.Ref{Kind: catalog.KindStack, ID: "secret-db"}
	for _, tc := range []struct {
		name string
		// again gives the id to a new space.
		again func(t *testing.T, ts *testServer)
	}{
		{"through the API", func(t *testing.T, ts *testServer) {
			if _, err := ts.srv.catalog.Apply(ctx, catalog.Mutation{Ref: space, Object: config.Space{ID: "secret-proj", Parent: "prod"}}); err != nil {
				t.Fatal(err)
			}
		}},
		{"in the file", func(t *testing.T, ts *testServer) {
			next := *ts.srv.cfg
			next.Spaces = append(slices.Clone(next.Spaces), config.Space{ID: "secret-proj", Parent: "dev"})
			if err := ts.srv.Reload(ctx, &next, nil); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t, serverOptions{})
			apply := func(mu catalog.Mutation) {
				t.Helper()
				if _, err := ts.srv.catalog.Apply(ctx, mu); err != nil {
					t.Fatal(err)
				}
			}
			apply(catalog.Mutation{Ref: space, Object: config.Space{ID: "secret-proj", Parent: "prod"}})
			apply(catalog.Mutation{Ref: stack, Object: config.Stack{ID: "secret-db", Space: "secret-proj"}})
			old := ts.createRun(t, "secret-db", "TRACKED")
			apply(catalog.Mutation{Ref: stack})
			apply(catalog.Mutation{Ref: space})
			time.Sleep(2 * time.Millisecond) // the space created again is created after every old event
			tc.again(t, ts)
			for _, e := range auditEvents(t, ts, "secret-proj", 100) {
				if e.Run == old.Run.ID || e.Stack == "secret-db" {
					t.Errorf("the space created again lists an event of the old one: %+v", e)
				}
			}
			var inProd bool
			for _, e := range auditEvents(t, ts, "prod", 100) {
				inProd = inProd || e.Run == old.Run.ID
			}
			if !inProd {
				t.Error("the old space's parent no longer lists its run")
			}
		})
	}
}

// A checkpoint is due on a quiet chain at half of keys.rotation.retain, even when
// audit.checkpoint.interval is longer: otherwise the latest checkpoint could be signed by a key
// already gone from the JWKS, and anchor nothing.
func TestCheckpointMaxAgeWithinRetain(t *testing.T) {
	for _, interval := range []string{"1m", "12h", "48h"} {
		cfg, err := config.Parse("t.yaml", []byte("issuer: https://broker.example.com\naudit:\n  checkpoint: {interval: "+interval+"}\n"))
		if err != nil {
			t.Fatal(err)
		}
		if got, retain := checkpointMaxAge(cfg), cfg.Keys.Rotation.Retain; got > retain/2 || got <= 0 {
			t.Errorf("interval %s: checkpoints due after %s on a quiet chain, want at most half of retain %s", interval, got, retain)
		}
	}
}
