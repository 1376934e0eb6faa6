package server

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Every log line a request writes carries its request id, also the lines of its failure paths:
// with Vault's Transit engine cut off, the 503 of POST /v1/token; and the line of the refusal
// that crosses the refusal limit. On the old code both were logged without the request's context.
func TestTransitOutageLogLinesCarryRequestID(t *testing.T) {
	v, _ := startTransitVault(t)
	u, err := url.Parse(v.Addr())
	if err != nil {
		t.Fatal(err)
	}
	proxy := startCutProxy(t, u.Host)
	ts := startServer(t, serverOptions{
		keyBackend: "vault-transit", keysYAML: transitYAML(proxy.URL()),
		extraYAML: "limits: {store_timeout: 1s}\n",
	})
	run := ts.createRun(t, "vpc-prod", "TRACKED")
	if _, code := ts.mint(t, run.RunToken, ""); code != 200 {
		t.Fatalf("mint with Vault up: %d", code)
	}
	proxy.Cut()
	before := len(ts.Logs.String())
	req, _ := http.NewRequest("POST", ts.URL+"/v1/token", strings.NewReader(`{}`))
	req.Header.Set("Authorization", "Bearer "+run.RunToken)
	req.Header.Set("X-Request-Id", "req-log-1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for _, l := range logLines(t, ts.Logs.String()[before:]) {
		if strings.HasPrefix(l["msg"].(string), "request") && l["path"] != "/v1/token" {
			continue
		}
		if l["request_id"] != "req-log-1" {
			t.Errorf("log line of the request without its request_id: %v", l)
		}
	}
}

// The "refusals of this actor are no longer recorded" line carries the id of the request that
// crossed the limit.
func TestRefusalLimitLineCarriesRequestID(t *testing.T) {
	ts := startServer(t, serverOptions{})
	for range refusalsPerActor {
		if code := ts.call(t, apiRequest{method: "POST", path: "/v1/runs", bearer: limitedSecret, body: map[string]string{"stack": "vpc-prod", "runType": "TRACKED"}}); code != 404 {
			t.Fatalf("ask: %d", code)
		}
	}
	before := len(ts.Logs.String())
	req, _ := http.NewRequest("POST", ts.URL+"/v1/runs", strings.NewReader(`{"stack":"vpc-prod","runType":"TRACKED"}`))
	req.Header.Set("Authorization", "Bearer "+limitedSecret)
	req.Header.Set("X-Request-Id", "req-log-2")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	found := false
	for _, l := range logLines(t, ts.Logs.String()[before:]) {
		if strings.Contains(l["msg"].(string), "no longer recorded") {
			found = true
			if l["request_id"] != "req-log-2" {
				t.Errorf("log line of the request without its request_id: %v", l)
			}
		}
	}
	if !found {
		t.Fatal("no limit line")
	}
}
