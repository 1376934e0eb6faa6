package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/brokerhq/broker/internal/runs"
)

// rawCall sends body as JSON with a bearer secret and returns the status and the raw answer.
func (h *runsHarness) rawCall(t *testing.T, path, bearer string, body any) (int, []byte) {
	t.Helper()
	data, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return h.rawSend(t, path, bearer, data)
}

// rawSend POSTs data, as it is, to path with bearer and returns the status and the raw body.
func (h *runsHarness) rawSend(t *testing.T, path, bearer string, data []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest("POST", h.url+path, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+bearer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, raw
}

// TestIssueNeedsItsEvent: while the trail cannot record, POST /v1/token and POST
// /v1/credentials answer 503 in the envelope, and the answer holds nothing but the envelope: no
// token, no credentials. Once the trail records again, the same requests succeed with one event
// each.
func TestIssueNeedsItsEvent(t *testing.T) {
	h := newRunsHarness(t)
	run := h.start(t, runs.Tracked, runs.Planning)
	requests := []struct {
		path, action string
		body         map[string]string
		secret       string // a part of the successful answer that the refusal must not hold
	}{
		{"/v1/token", "token.issue", map[string]string{"audience": "sts.amazonaws.com"}, `"token"`},
		{"/v1/credentials", "credentials.issue", map[string]string{"provider": "aws"}, "AKIA-aws-read"},
	}
	for _, rq := range requests {
		t.Run(rq.action, func(t *testing.T) {
			h.events.fail(errRecorderDown)
			code, raw := h.rawCall(t, rq.path, run.RunToken, rq.body)
			if code != http.StatusServiceUnavailable {
				t.Errorf("%s while the trail is down: %d %s, want 503", rq.path, code, raw)
			}
			var env map[string]map[string]string
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&env); err != nil || len(env) != 1 || len(env["error"]) != 2 ||
				env["error"]["code"] != "unavailable" || env["error"]["message"] == "" {
				t.Errorf("%s while the trail is down answered %s, want only the envelope with code unavailable", rq.path, raw)
			}
			if strings.Contains(string(raw), rq.secret) || strings.Contains(string(raw), "eyJ") {
				t.Errorf("%s while the trail is down handed out %s", rq.path, raw)
			}
			if got := h.eventsOf(rq.action, "success"); len(got) != 0 {
				t.Errorf("%s events while the trail is down: %+v, want none", rq.action, got)
			}

			h.events.fail(nil)
			code, raw = h.rawCall(t, rq.path, run.RunToken, rq.body)
			if code != http.StatusOK || !strings.Contains(string(raw), rq.secret) {
				t.Fatalf("%s once the trail is back: %d %s, want 200 holding %s", rq.path, code, raw, rq.secret)
			}
			if got := h.eventsOf(rq.action, "success"); len(got) != 1 || got[0].Run.ID != run.Run.ID {
				t.Errorf("%s events once the trail is back: %+v, want one naming the run", rq.action, got)
			}
		})
	}
}
