package server

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// rawRequest sends one request and returns its status and body; a transport error is returned,
// not a test failure (the server may be refusing while its store is frozen).
func rawRequest(client *http.Client, method, url, bearer, body string) (int, []byte, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp.StatusCode, raw, err
}

// TestFrozenRedisLeavesNoTokenUncorrected: Redis freezes (SIGSTOP) under token load and thaws
// three times. A token.issue event whose append timed out (the caller got 503) may still land
// when Redis thaws; each one in the chain is then followed by an event saying that token was
// not handed out, so every success event left is a token answered 200. The chain verifies.
func TestFrozenRedisLeavesNoTokenUncorrected(t *testing.T) {
	redis := redistest.Start(t)
	ts := startServer(t, serverOptions{redisURL: redis.URL(), keyBackend: "redis", extraYAML: "\nlimits: {store_timeout: 300ms}\n"})
	run := ts.createRun(t, "vpc-prod", "TRACKED")
	client := &http.Client{Timeout: 10 * time.Second}
	stop := make(chan struct{})
	var mu sync.Mutex
	handed := map[string]bool{}
	codes := map[int]int{}
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				code, raw, err := rawRequest(client, "POST", ts.URL+"/v1/token", run.RunToken, `{}`)
				mu.Lock()
				if err != nil {
					codes[-1]++
				} else {
					codes[code]++
					if code == 200 {
						var a tokenAnswer
						_ = json.Unmarshal(raw, &a)
						handed[decodePayload(t, a.Token)["jti"].(string)] = true
					}
				}
				mu.Unlock()
			}
		}()
	}
	pid := redis.PID()
	for range 3 {
		time.Sleep(400 * time.Millisecond)
		_ = syscall.Kill(pid, syscall.SIGSTOP)
		time.Sleep(700 * time.Millisecond)
		_ = syscall.Kill(pid, syscall.SIGCONT)
	}
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()
	time.Sleep(500 * time.Millisecond)
	t.Logf("codes %v", codes)
	chain := ts.chain(t)
	if err := audit.Verify(chain); err != nil {
		t.Errorf("chain: %v", err)
	}
	corrected := map[string]bool{}
	for _, e := range chain {
		if e.Action == "token.issue" && e.Outcome != "success" {
			if i := strings.Index(e.Detail, "jti="); i >= 0 {
				corrected[strings.Fields(e.Detail[i+4:])[0]] = true
			}
		}
	}
	phantom := 0
	var example string
	for _, e := range chain {
		if e.Action != "token.issue" || e.Outcome != "success" {
			continue
		}
		i := strings.Index(e.Detail, "jti=")
		jti := strings.Fields(e.Detail[i+4:])[0]
		if !handed[jti] && !corrected[jti] {
			phantom++
			example = e.ID + " " + e.Detail
		}
	}
	inTrail := map[string]bool{}
	for _, e := range chain {
		if e.Action == "token.issue" && e.Outcome == "success" {
			if i := strings.Index(e.Detail, "jti="); i >= 0 {
				inTrail[strings.Fields(e.Detail[i+4:])[0]] = true
			}
		}
	}
	for jti := range handed {
		if !inTrail[jti] {
			t.Errorf("token %s handed out (200) without a token.issue event", jti)
		}
	}
	if phantom > 0 {
		var corrections []string
		for _, line := range strings.Split(ts.Logs.String(), "\n") {
			if strings.Contains(line, "correction") {
				corrections = append(corrections, line)
			}
		}
		t.Errorf("%d token.issue success events for tokens never handed out (answered 503) and never corrected; e.g. %s\ncorrections logged:\n%s",
			phantom, example, strings.Join(corrections, "\n"))
	}
}
