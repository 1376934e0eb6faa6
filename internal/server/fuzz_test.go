package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzAPI sends arbitrary bodies, with valid and invalid credentials, to every endpoint and
// requires what the contract promises for bad input: never a 500, always the error envelope.
func FuzzAPI(f *testing.F) {
	ts := startServer(f, serverOptions{quiet: true})
	run := ts.createRun(f, "vpc-prod", "TRACKED")
	routes := []struct{ method, path string }{
		{"POST", "/v1/runs"}, {"GET", "/v1/runs/" + run.Run.ID}, {"POST", "/v1/runs/" + run.Run.ID + "/phase"},
		{"POST", "/v1/runs/" + run.Run.ID + "/finish"}, {"GET", "/v1/audit?space=root&after=x"},
		{"POST", "/v1/token"}, {"POST", "/v1/credentials"}, {"GET", "/v1/runs/%00%ff"}, {"PUT", "/v1/token"},
	}
	bearers := []string{"", adminSecret, run.RunToken, "Bearer", "x y z", "\x00"}
	for _, body := range []string{`{"stack":"vpc-prod","runType":"TRACKED"}`, `{"phase":"APPLYING"}`, `{"audience":"aud"}`,
		`{"provider":"aws"}`, `{"provider":"aws","integration":"nope"}`, `[]`, `null`, `{"stack":1e999}`, "\xff\xfe",
		`{"stack":"vpc-prod","runType":"PROPOSED","RUNTYPE":"TRACKED"}`, `{"stack":"vpc-prod","runType":"PROPOSED","runType":"TRACKED"}`,
		`{"PHASE":"APPLYING"}`, `{"phase":"PLANNING","ph\u0061se":"APPLYING"}`, `{"audience":"a","Audience":"b"}`,
		`{"ſtack":"vpc-prod","runType":"TRACKED"}`, `{"provider":"aws","provider":"gcp"}`, `{"stack":"vpc-prod"} }`} {
		for i := range routes {
			f.Add(uint8(i), uint8(1), []byte(body))
		}
	}
	f.Fuzz(func(t *testing.T, route, bearer uint8, body []byte) {
		rt := routes[int(route)%len(routes)]
		req := httptest.NewRequest(rt.method, rt.path, bytes.NewReader(body))
		if b := bearers[int(bearer)%len(bearers)]; b != "" {
			req.Header.Set("Authorization", "Bearer "+b)
		}
		rec := httptest.NewRecorder()
		ts.srv.Handler().ServeHTTP(rec, req)
		if rec.Code >= 500 && rec.Code != http.StatusBadGateway && rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("%s %s %q: %d %s", rt.method, rt.path, body, rec.Code, rec.Body)
		}
		if rec.Code >= 400 {
			var env struct {
				Error struct{ Code, Message string } `json:"error"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || env.Error.Code == "" || env.Error.Message == "" {
				t.Fatalf("%s %s: %d without the envelope: %s", rt.method, rt.path, rec.Code, rec.Body)
			}
		}
	})
}
