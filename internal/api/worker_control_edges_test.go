package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/api"
	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/runs"
)

// fixedAuditStore is an audit.Store whose List answers events and records the limit asked.
type fixedAuditStore struct {
	audit.Store
	events []audit.Event
	limits []int
}

func (s *fixedAuditStore) List(
	_ context.Context, _, cursor string, limit int,
) ([]audit.Event, string, error) {
	if _, err := audit.ParseCursor(cursor); err != nil {
		return nil, "", err
	}
	s.limits = append(s.limits, limit)
	return s.events, "", nil
}

// auditListingServer serves the control plane of the runs harness's configuration plus a root
// auditor key, whose space prod counts as created at created, listing from store.
func auditListingServer(t *testing.T, store *fixedAuditStore, created time.Time) string {
	t.Helper()
	objs := catalog.FileObjects(harnessConfig(t))
	objs.Roles = append(objs.Roles,
		config.Role{ID: "auditor", Actions: []string{config.ActionAuditRead}})
	objs.APIKeys = append(objs.APIKeys, config.APIKey{ID: "root-auditor",
		SecretSHA256: sha256Hex(secretRootAuditor),
		Bindings:     []config.Binding{{Role: "auditor", Space: "root"}}})
	cat, err := catalog.Build(catalog.Input{File: objs,
		FileCreated: map[catalog.Ref]int64{
			{Kind: catalog.KindSpace, ID: "prod"}: created.UnixMilli()}})
	if err != nil {
		t.Fatal(err)
	}
	rt := api.NewRouter()
	api.NewControl(api.ControlConfig{Catalog: catalog.NewLive(cat), Audit: store,
		Logger: slog.New(slog.DiscardHandler)}).Mount(rt)
	srv := httptest.NewServer(rt)
	t.Cleanup(srv.Close)
	return srv.URL
}

// getBody sends GET url with the root auditor's key and returns the status and body.
func getBody(t *testing.T, url string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+secretRootAuditor)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, raw
}

// GET /v1/audit takes limit from 1 to MaxAuditLimit inclusive, written as plain digits (1000 is
// served and passed on as asked, 1001, 0, +5 and 005 are 400), defaults to DefaultAuditLimit, and refuses a query parameter it
// does not define, or a cursor it did not return, with 400 in the error envelope.
// Guards against: limit's upper bound made exclusive (limit=1000 refused).
// Guards against: listAudit no longer refusing unknown query parameters.
// Guards against: audit.ErrBadCursor no longer mapped to 400 (answered 500).
// Guards against: a limit with a sign or leading zeros (+5, 005) taken as a number.
func TestAuditLimitBoundsAndParams(t *testing.T) {
	store := &fixedAuditStore{}
	url := auditListingServer(t, store, time.Now().Add(-time.Hour))
	for _, tc := range []struct {
		query string
		code  int
		limit int // the limit the store is asked for, when code is 200
	}{
		{"", 200, api.DefaultAuditLimit},
		{"?limit=1", 200, 1},
		{"?limit=1000", 200, api.MaxAuditLimit},
		{"?limit=1001", 400, 0},
		{"?limit=0", 400, 0},
		{"?limit=%2B5", 400, 0},
		{"?limit=005", 400, 0},
		{"?limit=-0", 400, 0},
		{"?limit=5%20", 400, 0},
		{"?space=prod&limits=5", 400, 0},
		{"?spaces=prod", 400, 0},
		{"?after=5", 200, api.DefaultAuditLimit},
		{"?after=not-a-cursor", 400, 0},
		{"?after=-1", 400, 0},
	} {
		store.limits = nil
		code, raw := getBody(t, url+"/v1/audit"+tc.query)
		if code != tc.code {
			t.Errorf("GET /v1/audit%s: %d %s, want %d", tc.query, code, raw, tc.code)
			continue
		}
		if code == 200 && (len(store.limits) != 1 || store.limits[0] != tc.limit) {
			t.Errorf("GET /v1/audit%s asked the store for limits %v, want [%d]",
				tc.query, store.limits, tc.limit)
		}
		var env struct {
			Error struct{ Code string } `json:"error"`
		}
		if code == 400 && (json.Unmarshal(raw, &env) != nil || env.Error.Code != "invalid_request") {
			t.Errorf("GET /v1/audit%s: body %s, want the invalid_request envelope", tc.query, raw)
		}
	}
}

// A listing of a space leaves out the events its id gathered before the space was created
// (they belonged to an earlier space of that id), and keeps those from its creation on.
// Guards against: listAudit not applying since() to the space's creation time.
func TestAuditListingDropsEventsBeforeSpaceCreation(t *testing.T) {
	created := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	store := &fixedAuditStore{events: []audit.Event{
		{ID: "before", Time: created.Add(-time.Minute).Format(time.RFC3339Nano), Space: "prod"},
		{ID: "after", Time: created.Add(time.Minute).Format(time.RFC3339Nano), Space: "prod"},
	}}
	url := auditListingServer(t, store, created)
	code, raw := getBody(t, url+"/v1/audit?space=prod")
	if code != http.StatusOK {
		t.Fatalf("GET /v1/audit?space=prod: %d %s", code, raw)
	}
	var ans struct {
		Events []audit.Event `json:"events"`
	}
	if err := json.Unmarshal(raw, &ans); err != nil {
		t.Fatal(err)
	}
	if len(ans.Events) != 1 || ans.Events[0].ID != "after" {
		t.Errorf("listing of prod: %+v, want only the event recorded after prod was created", ans.Events)
	}
}

// POST /v1/credentials answers the run's current scope and the integration serving it: a
// write-phase run gets "write" from its write attachment, a read-phase run "read" from its read
// attachment; never a proposed run's read scope for a write-phase one, nor the reverse.
// Guards against: the credentials answer's "scope" not taken from the run.
func TestCredentialsAnswerNamesTheRunsScope(t *testing.T) {
	for _, tc := range []struct {
		runType            runs.Type
		phase              runs.Phase
		scope, integration string
	}{
		{runs.Tracked, runs.Applying, "write", "aws-write"},
		{runs.Tracked, runs.Planning, "read", "aws-read"},
		{runs.Proposed, runs.Planning, "read", "aws-read"},
	} {
		h := newRunsHarness(t)
		run := h.start(t, tc.runType, tc.phase)
		var ans struct {
			Provider, Integration, Scope string
			Env                          map[string]string
		}
		code, env := h.call(t, request{path: "/v1/credentials", bearer: run.RunToken,
			body: map[string]string{"provider": "aws"}, out: &ans})
		if code != http.StatusOK {
			t.Fatalf("%s run in %s: credentials %d %s", tc.runType, tc.phase, code, env.Error.Message)
		}
		if ans.Scope != tc.scope || ans.Integration != tc.integration || ans.Provider != "aws" {
			t.Errorf("%s run in %s: answer %+v, want scope %q from %q", tc.runType, tc.phase,
				ans, tc.scope, tc.integration)
		}
	}
}

// bodyAfterSwap is a request body whose first Read puts next in force first: sent with
// Expect: 100-continue, it is read only once the handler reads the body, after authentication.
type bodyAfterSwap struct {
	once sync.Once
	live *catalog.Live
	next *catalog.Catalog
	body io.Reader
}

func (b *bodyAfterSwap) Read(p []byte) (int, error) {
	b.once.Do(func() { b.live.Store(b.next) })
	return b.body.Read(p)
}

// A run start whose API key is deleted after the key was authenticated and before the start is
// authorized answers 401 (the key no longer exists), not the 404 "no stack" that hides a stack
// from a key with no binding covering its space.
// Guards against: hiddenStack hiding every refusal of a non-covering key, not only ErrForbidden
// ones.
func TestStartWithKeyDeletedMeanwhileIs401(t *testing.T) {
	h := newRunsHarness(t)
	cur := h.live.Load().Objects()
	cur.APIKeys = slices.DeleteFunc(cur.APIKeys,
		func(k config.APIKey) bool { return k.ID == "create-update" })
	next, err := catalog.Build(catalog.Input{File: cur})
	if err != nil {
		t.Fatal(err)
	}
	payload := []byte(`{"stack":"vpc-prod","runType":"TRACKED"}`)
	body := &bodyAfterSwap{live: h.live, next: next, body: bytes.NewReader(payload)}
	req, err := http.NewRequest("POST", h.url+"/v1/runs", body)
	if err != nil {
		t.Fatal(err)
	}
	// A declared length: a chunked body would be read by the router ahead of the handler.
	req.ContentLength = int64(len(payload))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+secretCreateUpdate)
	req.Header.Set("Expect", "100-continue")
	tr := &http.Transport{ExpectContinueTimeout: time.Hour}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("start by a key deleted meanwhile: %d %s, want 401", resp.StatusCode, raw)
	}
}

// A token event recorded without a Version that the trail refuses, even with runs.ErrChanged,
// is a trail that did not take the event: the answer is 503, and no further token is minted
// for a run re-read (only a Version-conditioned refusal means the run changed).
// Guards against: issue treating ErrChanged as "the run changed" when the event carried no Version.
func TestVersionlessTokenEventRefusedIs503(t *testing.T) {
	h := newRunsHarnessWith(t, harnessOptions{versionless: true})
	run := h.start(t, runs.Tracked, runs.Planning)
	refused := refuseTokenEvents(h, func(e api.Event) bool { return e.Outcome == "" })
	code, raw := h.rawCall(t, "/v1/token", run.RunToken, map[string]string{})
	if code != http.StatusServiceUnavailable {
		t.Errorf("token whose version-less event was refused: %d %s, want 503", code, raw)
	}
	if n := refused(); n != 1 {
		t.Errorf("token.issue events offered: %d, want 1", n)
	}
}
