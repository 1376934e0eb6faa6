package server

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/api"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// TestBadTokenWithACutBodyIsRefusedAndCounted: a token request with a wrong run token whose
// body ends early (the client half-closes its side after part of the body and waits for the
// answer) is refused 401 unauthenticated, and each counts as a failed authentication
// (limits.auth_failures: 3, so the fourth gets 429): the handler asks the store about the run
// token before it reads its body, and net/http ends a request's context once the body it read
// ends early.
// Found by review: the test fails on 206286c, which read the body first.
// Guards against: api worker.go:token decoding its body before current and authenticateRun,
// so that the body's early end cancelled the run token's look-up (499, uncounted).
func TestBadTokenWithACutBodyIsRefusedAndCounted(t *testing.T) {
	redis := redistest.Start(t)
	ts := startServer(t, serverOptions{quiet: true, redisURL: redis.URL(), keyBackend: "redis", baseYAML: adminConfig,
		extraYAML: "\nlimits: {auth_failures: 3, window: 1m, cooloff: 1m}\n"})
	var got []string
	for i := 0; i < 6; i++ {
		c := dialServer(t, ts)
		fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer wrong-token-%d\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n", api.TokenPath, i)
		time.Sleep(50 * time.Millisecond) // the head alone: net/http reads this request
		io.WriteString(c, `{"a`)
		_ = c.(*net.TCPConn).CloseWrite()
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: "POST"})
		if err != nil {
			got = append(got, "no answer: "+err.Error())
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		got = append(got, fmt.Sprintf("%d %s", resp.StatusCode, b))
	}
	for i, g := range got {
		t.Logf("attempt %d: %s", i+1, g)
	}
	if len(got) < 6 || len(got[5]) < 3 || got[5][:3] != "429" {
		t.Errorf("after 3 allowed failures the 6th wrong token is not refused 429: the failures were not counted")
	}
	for i := 0; i < 3; i++ {
		if len(got[i]) < 3 || got[i][:3] != "401" {
			t.Errorf("attempt %d with a wrong token: %s; want 401 unauthenticated", i+1, got[i])
		}
	}
}
