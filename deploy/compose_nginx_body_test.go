package deploy

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// TestComposeNginxPassesBodiesUnderBrokersCap: a body under broker's 64 KiB cap passes nginx and
// gets broker's own answer, never nginx's 413: nginx's client_max_body_size stays above broker's
// cap so that broker decides about every body near it. Skipped, like the other compose nginx tests,
// without nginx or redis-server.
// Guards against: deploy/compose/nginx.conf:19 client_max_body_size 1m -> 32k
func TestComposeNginxPassesBodiesUnderBrokersCap(t *testing.T) {
	st := startComposeStack(t)
	body := `{"stack":"x","runType":"TRACKED","pad":"` + strings.Repeat("a", 60<<10) + `"}`
	hdr := map[string]string{"Content-Type": "application/json", "Authorization": "Bearer brk_nope"}
	req, err := http.NewRequest("POST", "http://127.0.0.1:"+strconv.Itoa(st.brokerPorts[0])+"/v1/runs", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	wantCode, want := roundTrip(req) // broker's own answer
	if wantCode == http.StatusRequestEntityTooLarge {
		t.Fatalf("broker itself refuses a %d-byte body: %s", len(body), want)
	}
	if code, _, got := st.post("/v1/runs", strings.NewReader(body), hdr); code != wantCode || got != want {
		t.Errorf("a %d-byte body through nginx: %d %.120q, want broker's %d %.120q", len(body), code, got, wantCode, want)
	}
}
