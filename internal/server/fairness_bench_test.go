package server

import (
	"bytes"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fairnessClients is the number of closed-loop clients of BenchmarkTokenEndpointFairness.
const fairnessClients = 64

// BenchmarkTokenEndpointFairness drives POST /v1/token (RS256, memory store) with 64 closed-loop
// keep-alive clients sharing b.N requests, and reports the p50 and p99 latency and their ratio:
// a p99 far above the p50 means some connections starve while others are served.
func BenchmarkTokenEndpointFairness(b *testing.B) {
	ts := startServer(b, serverOptions{quiet: true})
	runToken := benchRunToken(b, ts)
	url := ts.URL + "/v1/token"
	var (
		mu        sync.Mutex
		latencies = make([]time.Duration, 0, b.N)
		next      = make(chan struct{}, b.N)
		wg        sync.WaitGroup
	)
	for range b.N {
		next <- struct{}{}
	}
	close(next)
	b.ReportAllocs()
	b.ResetTimer()
	for range fairnessClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tr := &http.Transport{MaxIdleConnsPerHost: 1, IdleConnTimeout: time.Minute}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr, Timeout: time.Minute}
			for range next {
				req, _ := http.NewRequest("POST", url, strings.NewReader(tokenBody))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+runToken)
				start := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					b.Errorf("POST /v1/token: %v", err)
					return
				}
				raw, _ := io.ReadAll(resp.Body)
				_ = resp.Body.Close()
				d := time.Since(start)
				if resp.StatusCode != http.StatusOK || !bytes.Contains(raw, []byte(`"token":"ey`)) {
					b.Errorf("POST /v1/token: status %d: %s", resp.StatusCode, raw)
					return
				}
				mu.Lock()
				latencies = append(latencies, d)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	if len(latencies) == 0 {
		return
	}
	slices.Sort(latencies)
	p := func(q int) time.Duration { return latencies[(len(latencies)-1)*q/100] }
	b.ReportMetric(float64(p(50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(p(99).Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(p(99))/float64(p(50)), "p99/p50")
	b.ReportMetric(float64(len(latencies))/b.Elapsed().Seconds(), "tokens/s")
}
