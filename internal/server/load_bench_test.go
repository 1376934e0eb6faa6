package server

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/testutil/redistest"
	"github.com/brokerhq/broker/keys"
)

// Load benchmarks of the token endpoint: real server on loopback, real HTTP clients, one run
// token, every answer checked. `go test -run '^$' -bench . ./internal/server/` prints the
// endpoint's tokens/s next to the raw RSA signing rate of the same machine in the same run
// (BenchmarkRawSignForRatio); docs/performance.md has the method and the results.

// benchParallelism multiplies GOMAXPROCS into the number of client goroutines, so that a
// request waiting on the network (or on Redis) does not leave a core idle.
const benchParallelism = 4

// tokenBody is the request body of every benchmark call.
const tokenBody = `{"audience":"sts.amazonaws.com"}`

func processCPU(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchRunToken creates a TRACKED run of app-a with the admin key and returns its run token.
func benchRunToken(b *testing.B, ts *testServer) string {
	b.Helper()
	req, err := http.NewRequest("POST", ts.URL+"/v1/runs", strings.NewReader(`{"stack":"app-a","runType":"TRACKED"}`))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+adminSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatalf("create run: %v", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		b.Fatalf("create run: read answer: %v", err)
	}
	if resp.StatusCode != http.StatusCreated {
		b.Fatalf("create run: status %d: %s", resp.StatusCode, raw)
	}
	var ans runAnswer
	if err := json.Unmarshal(raw, &ans); err != nil {
		b.Fatalf("create run: decode %s: %v", raw, err)
	}
	if ans.RunToken == "" {
		b.Fatalf("create run: no run token in %s", raw)
	}
	return ans.RunToken
}

// benchTokenEndpoint hammers POST /v1/token of ts with one run token from every client
// goroutine, each with its own keep-alive client, and reports the rate as tokens/s.
func benchTokenEndpoint(b *testing.B, ts *testServer) {
	runToken := benchRunToken(b, ts)
	url := ts.URL + "/v1/token"
	b.SetParallelism(benchParallelism)
	b.ReportAllocs()
	cpu := processCPU(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		tr := &http.Transport{MaxIdleConns: 64, MaxIdleConnsPerHost: 64, IdleConnTimeout: time.Minute}
		defer tr.CloseIdleConnections()
		client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
		for pb.Next() {
			req, err := http.NewRequest("POST", url, strings.NewReader(tokenBody))
			if err != nil {
				b.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+runToken)
			resp, err := client.Do(req)
			if err != nil {
				b.Fatalf("POST /v1/token: %v", err)
			}
			raw, err := io.ReadAll(resp.Body)
			if cerr := resp.Body.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				b.Fatalf("POST /v1/token: read answer: %v", err)
			}
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("POST /v1/token: status %d: %s", resp.StatusCode, raw)
			}
			if !bytes.Contains(raw, []byte(`"token":"ey`)) {
				b.Fatalf("POST /v1/token: no token in %s", raw)
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
	b.ReportMetric(float64(processCPU(b)-cpu)/float64(b.N), "cpu-ns/op")
}

// BenchmarkTokenEndpoint measures the token endpoint with the in-memory run store and keys.
func BenchmarkTokenEndpoint(b *testing.B) {
	benchTokenEndpoint(b, startServer(b, serverOptions{quiet: true}))
}

// BenchmarkTokenEndpointES256 is BenchmarkTokenEndpoint with a P-256 signing key, whose
// signature is cheap enough that the rest of the token path shows.
func BenchmarkTokenEndpointES256(b *testing.B) {
	benchTokenEndpoint(b, startServer(b, serverOptions{alg: "ES256", quiet: true}))
}

// BenchmarkRawSignES256ForRatio is BenchmarkRawSignForRatio with a P-256 key (ECDSA, SHA-256).
func BenchmarkRawSignES256ForRatio(b *testing.B) { benchRawSignForRatio(b, keys.ES256) }

// BenchmarkTokenEndpointRedis measures the token endpoint with runs, rate-limit counters and
// keys in a local redis-server (skipped when redis-server is not installed).
func BenchmarkTokenEndpointRedis(b *testing.B) {
	rs := redistest.Start(b)
	benchTokenEndpoint(b, startServer(b, serverOptions{redisURL: rs.URL(), keyBackend: "redis", quiet: true}))
}

// BenchmarkRawSignForRatio is the floor of the endpoint: RS256 signatures (PKCS #1 v1.5,
// SHA-256, RSA 2048 as the server generates) of a ~450-byte claims payload on every core,
// reported as signs/s to set against the endpoint's tokens/s of the same run.
func BenchmarkRawSignForRatio(b *testing.B) { benchRawSignForRatio(b, keys.RS256) }

func benchRawSignForRatio(b *testing.B, alg string) {
	key, err := keys.Generate(alg, time.Now())
	if err != nil {
		b.Fatalf("generate key: %v", err)
	}
	payload := []byte(`{"iss":"http://127.0.0.1:41234","sub":"space:team-a:stack:app-a:run_type:TRACKED:scope:write",` +
		`"aud":"sts.amazonaws.com","exp":1795000000,"iat":1794996400,"nbf":1794996370,"jti":"q2Qd6c1c9m0W0bM3pY5lVg",` +
		`"spaceId":"team-a","callerType":"stack","callerId":"app-a","runType":"TRACKED","runId":"01JD8ZQ6Y3K9V2W4X5T7R8P0MN",` +
		`"runPhase":"APPLYING","scope":"write","https://example.com/padding":"to reach a realistic size of a token payload"}`)
	if n := len(payload); n < 400 || n > 500 {
		b.Fatalf("payload is %d bytes, want ~450", n)
	}
	b.ReportAllocs()
	cpu := processCPU(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			digest := sha256.Sum256(payload)
			sig, err := key.Signer.Sign(rand.Reader, digest[:], crypto.SHA256)
			if err != nil {
				b.Fatalf("sign: %v", err)
			}
			if alg == keys.RS256 && len(sig) != keys.RSABits/8 || len(sig) == 0 {
				b.Fatalf("signature is %d bytes", len(sig))
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "signs/s")
	b.ReportMetric(float64(processCPU(b)-cpu)/float64(b.N), "cpu-ns/op")
}

// benchTokenHandler calls the server's handler for POST /v1/token in process, with no
// connection and no client: what the token path costs beyond the HTTP exchange.
func benchTokenHandler(b *testing.B, alg string) {
	ts := startServer(b, serverOptions{alg: alg, quiet: true})
	runToken := benchRunToken(b, ts)
	h := ts.srv.Handler()
	b.ReportAllocs()
	cpu := processCPU(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest("POST", "/v1/token", strings.NewReader(tokenBody))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+runToken)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK || !bytes.Contains(rec.Body.Bytes(), []byte(`"token":"ey`)) {
				b.Fatalf("POST /v1/token: status %d: %s", rec.Code, rec.Body.Bytes())
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(processCPU(b)-cpu)/float64(b.N), "cpu-ns/op")
}

// BenchmarkTokenHandlerES256 is the in-process token handler with a P-256 key.
func BenchmarkTokenHandlerES256(b *testing.B) { benchTokenHandler(b, keys.ES256) }

// BenchmarkTokenHandlerRS256 is the in-process token handler with an RSA 2048 key.
func BenchmarkTokenHandlerRS256(b *testing.B) { benchTokenHandler(b, keys.RS256) }
