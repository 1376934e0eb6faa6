package loadgen

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// loadImpls are the HTTPLoad implementations every contract test runs on.
var loadImpls = []struct {
	name string
	new  func(loadConfig) HTTPLoad
}{
	{"event loop", newEventLoad},
	{"goroutine workers", newWorkerLoad},
}

// newLoad makes an HTTPLoad of n connections sending req, closed when the test ends.
type newLoad func(n int, req HTTPRequest, timeout time.Duration) HTTPLoad

// forEachLoad runs test on every implementation.
func forEachLoad(t *testing.T, test func(t *testing.T, mk newLoad)) {
	t.Helper()
	for _, impl := range loadImpls {
		t.Run(impl.name, func(t *testing.T) {
			if impl.new(loadConfig{req: HTTPRequest{Method: http.MethodGet, URL: "http://127.0.0.1:1/"}}) == nil {
				t.Skipf("no %s on this system", impl.name)
			}
			test(t, func(n int, req HTTPRequest, timeout time.Duration) HTTPLoad {
				l := impl.new(loadConfig{clients: n, req: req, timeout: timeout})
				t.Cleanup(l.Close)
				return l
			})
		})
	}
}

// rawServer listens on loopback and, on every connection, reads GET requests (no body) and
// calls serve with the connection and the request's number on the whole server (from 0); the
// connection closes when serve returns false. It counts the connections accepted.
func rawServer(t *testing.T, serve func(c net.Conn, n int64) bool) (url string, conns *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conns = new(atomic.Int64)
	var reqs atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	open := map[net.Conn]bool{}
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for c := range open {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			mu.Lock()
			open[c] = true
			mu.Unlock()
			wg.Go(func() {
				defer c.Close()
				buf := make([]byte, 0, 4096)
				tmp := make([]byte, 4096)
				for {
					i := bytes.Index(buf, []byte("\r\n\r\n"))
					if i < 0 {
						k, err := c.Read(tmp)
						if err != nil {
							return
						}
						buf = append(buf, tmp[:k]...)
						continue
					}
					buf = buf[:copy(buf, buf[i+4:])]
					if !serve(c, reqs.Add(1)-1) {
						return
					}
				}
			})
		}
	})
	return "http://" + ln.Addr().String() + "/doc", conns
}

// writeAll serves answer in one write.
func writeAll(answer string) func(net.Conn, int64) bool {
	return func(c net.Conn, _ int64) bool {
		_, err := io.WriteString(c, answer)
		return err == nil
	}
}

// okAnswer is a valid answer with body doc.
const doc = `{"keys":[{"kid":"k1"}]}`

var okAnswer = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 23\r\n\r\n" + doc

func TestHTTPLoadClosedLoopCountsAndChecksBodies(t *testing.T) {
	tests := []struct {
		name    string
		want    string
		wantErr string // "" when every answer must be counted
	}{
		{name: "expected body", want: doc},
		{name: "another body", want: `{"keys":[]}`, wantErr: "differs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forEachLoad(t, func(t *testing.T, mk newLoad) {
				var served atomic.Int64
				url, conns := rawServer(t, func(c net.Conn, _ int64) bool {
					served.Add(1)
					_, err := io.WriteString(c, okAnswer)
					return err == nil
				})
				l := mk(3, HTTPRequest{Method: http.MethodGet, URL: url, Check: expectBody([]byte(tt.want))}, time.Second)
				res := l.Closed(context.Background(), 100*time.Millisecond)
				if res.Count+res.Errors != served.Load() || res.Count+res.Errors == 0 {
					t.Errorf("counted %d + %d errors, the server answered %d", res.Count, res.Errors, served.Load())
				}
				if tt.wantErr == "" && (res.Errors != 0 || int64(len(res.Latencies)) != res.Count) {
					t.Errorf("%d errors (first %v), %d latencies for %d answers", res.Errors, res.FirstErr, len(res.Latencies), res.Count)
				}
				if tt.wantErr != "" && (res.Count != 0 || res.FirstErr == nil || !strings.Contains(res.FirstErr.Error(), tt.wantErr)) {
					t.Errorf("count %d, first error %v: want no count and an error with %q", res.Count, res.FirstErr, tt.wantErr)
				}
				if got := conns.Load(); got != 3 {
					t.Errorf("%d connections for 3 clients", got)
				}
				if res.Elapsed < 100*time.Millisecond {
					t.Errorf("elapsed %v, shorter than the run", res.Elapsed)
				}
			})
		})
	}
}

// slowly writes answer in pieces of size bytes, pausing between them.
func slowly(answer string, size int, pause time.Duration) func(net.Conn, int64) bool {
	return func(c net.Conn, _ int64) bool {
		for i := 0; i < len(answer); i += size {
			if _, err := io.WriteString(c, answer[i:min(i+size, len(answer))]); err != nil {
				return false
			}
			time.Sleep(pause)
		}
		return true
	}
}

func TestHTTPLoadAnswers(t *testing.T) {
	head := "HTTP/1.1 200 OK\r\nContent-Length: 23\r\n\r\n"
	closing := func(answer string) func(net.Conn, int64) bool {
		return func(c net.Conn, _ int64) bool {
			io.WriteString(c, answer)
			return false
		}
	}
	tests := []struct {
		name    string
		serve   func(net.Conn, int64) bool
		wantErr string // "" for answers counted without error
	}{
		{name: "body split across reads", serve: slowly(head+doc, len(head)+5, 5*time.Millisecond)},
		{name: "byte by byte", serve: slowly(okAnswer, 1, 200*time.Microsecond)},
		{name: "bare line feeds", serve: writeAll("HTTP/1.1 200 OK\nContent-Length: 23\n\n" + doc)},
		{name: "Connection: close", serve: closing("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 23\r\n\r\n" + doc)},
		{name: "HTTP/1.0 closes", serve: closing("HTTP/1.0 200 OK\r\nContent-Length: 23\r\n\r\n" + doc)},
		{name: "malformed status line", serve: writeAll("HTTP/1.1 2x0 OK\r\nContent-Length: 23\r\n\r\n" + doc), wantErr: `malformed HTTP answer: status line "HTTP/1.1 2x0 OK`},
		{name: "not HTTP", serve: writeAll("SSH-2.0-OpenSSH\r\n"), wantErr: "malformed HTTP answer: status line"},
		{name: "header without colon", serve: writeAll("HTTP/1.1 200 OK\r\nbroken\r\n\r\n"), wantErr: "header line"},
		{name: "missing Content-Length", serve: writeAll("HTTP/1.1 200 OK\r\n\r\n" + doc), wantErr: "status 200 without a Content-Length"},
		{name: "chunked", serve: writeAll("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n17\r\n" + doc + "\r\n0\r\n\r\n"),
			wantErr: `Transfer-Encoding "chunked" (the driver needs a Content-Length)`},
		{name: "Content-Length too large", serve: writeAll("HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n"), wantErr: `Content-Length "99999999999"`},
		{name: "truncated body", serve: closing("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort"), wantErr: "answer cut after 5 of 100 bytes"},
		{name: "non-200", serve: writeAll("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 10\r\n\r\noverloaded"), wantErr: "status 503: overloaded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forEachLoad(t, func(t *testing.T, mk newLoad) {
				var served atomic.Int64
				url, _ := rawServer(t, func(c net.Conn, n int64) bool {
					served.Add(1)
					return tt.serve(c, n)
				})
				l := mk(2, HTTPRequest{Method: http.MethodGet, URL: url, Check: expectBody([]byte(doc))}, time.Second)
				res := l.Closed(context.Background(), 50*time.Millisecond)
				if tt.wantErr == "" {
					if res.Errors != 0 || res.Count == 0 || res.Count != served.Load() {
						t.Errorf("%d answers of %d served, %d errors (first %v)", res.Count, served.Load(), res.Errors, res.FirstErr)
					}
					return
				}
				if res.Count != 0 || res.Errors == 0 || !strings.Contains(res.FirstErr.Error(), tt.wantErr) {
					t.Errorf("count %d, %d errors, first %v: want errors with %q", res.Count, res.Errors, res.FirstErr, tt.wantErr)
				}
			})
		})
	}
}

func TestHTTPLoadRedialsConnectionsTheServerClosed(t *testing.T) {
	forEachLoad(t, func(t *testing.T, mk newLoad) {
		var (
			mu   sync.Mutex
			live []net.Conn
		)
		url, conns := rawServer(t, func(c net.Conn, _ int64) bool {
			mu.Lock()
			live = append(live, c)
			mu.Unlock()
			_, err := io.WriteString(c, okAnswer)
			return err == nil
		})
		closeAll := func() {
			mu.Lock()
			defer mu.Unlock()
			for _, c := range live {
				c.Close()
			}
			live = nil
		}
		l := mk(4, HTTPRequest{Method: http.MethodGet, URL: url}, time.Second)
		for round := range 3 {
			before := conns.Load()
			res := l.Closed(context.Background(), 30*time.Millisecond)
			if res.Errors != 0 || res.Count == 0 {
				t.Fatalf("round %d: %d answers, %d errors (first %v)", round, res.Count, res.Errors, res.FirstErr)
			}
			// Each client that sent in this round dialled once: a busy machine may leave one
			// idle for the whole round, never make one dial per request.
			if n := conns.Load() - before; n < 1 || n > 4 {
				t.Errorf("round %d: %d connections for 4 clients, each closed after the round before", round, n)
			}
			closeAll() // the server's idle timeout, between runs
			if round == 1 {
				time.Sleep(20 * time.Millisecond) // and once with the close already arrived
			}
		}
	})
}

func TestHTTPLoadTimesOutAStalledRequest(t *testing.T) {
	forEachLoad(t, func(t *testing.T, mk newLoad) {
		url, _ := rawServer(t, func(c net.Conn, n int64) bool {
			if n == 0 {
				time.Sleep(time.Second) // longer than the timeout: no answer
				return false
			}
			_, err := io.WriteString(c, okAnswer)
			return err == nil
		})
		l := mk(1, HTTPRequest{Method: http.MethodGet, URL: url}, 200*time.Millisecond)
		start := time.Now()
		res := l.Closed(context.Background(), 50*time.Millisecond)
		if res.Errors != 1 || res.Count != 0 || !errors.Is(res.FirstErr, os.ErrDeadlineExceeded) {
			t.Errorf("%d answers, %d errors (first %v): want the stalled request's timeout", res.Count, res.Errors, res.FirstErr)
		}
		if el := time.Since(start); el < 200*time.Millisecond || el > 900*time.Millisecond {
			t.Errorf("the run took %v, want about the 200ms timeout", el)
		}
		if res := l.Closed(context.Background(), 30*time.Millisecond); res.Errors != 0 || res.Count == 0 {
			t.Errorf("after the timeout: %d answers, %d errors (first %v)", res.Count, res.Errors, res.FirstErr)
		}
	})
}

// TestHTTPLoadOpenLoopMeasuresFromTheSchedule stalls the whole server for 300 ms once: every
// request due during the stall must show, from its due time, the wait until the stall ended,
// whether it waited in the server or for an idle connection (no coordinated omission). Only
// lower bounds are asserted, which a slow machine cannot break.
func TestHTTPLoadOpenLoopMeasuresFromTheSchedule(t *testing.T) {
	const (
		rate  = 200.0 // one request every 5 ms
		stall = 300 * time.Millisecond
		d     = 800 * time.Millisecond
	)
	forEachLoad(t, func(t *testing.T, mk newLoad) {
		var (
			mu         sync.Mutex // held by a request being served: the server serves one at a time
			stallStart time.Time
			stallEnd   time.Time
			scheduled  atomic.Int64 // requests of the schedule served, once armed
			armed      atomic.Bool
		)
		url, _ := rawServer(t, func(c net.Conn, _ int64) bool {
			mu.Lock()
			defer mu.Unlock()
			if armed.Load() && scheduled.Add(1) == 40 { // 200 ms into the schedule
				stallStart = time.Now()
				time.Sleep(stall)
				stallEnd = time.Now()
			}
			_, err := io.WriteString(c, okAnswer)
			return err == nil
		})
		l := mk(4, HTTPRequest{Method: http.MethodGet, URL: url}, 5*time.Second)
		if res := l.Closed(context.Background(), 10*time.Millisecond); res.Errors != 0 { // open the connections
			t.Fatalf("warm-up: %v", res.FirstErr)
		}
		armed.Store(true)
		res := l.Open(context.Background(), Schedule{Rate: rate, Duration: d})
		if want := ScheduleLen(rate, d); res.Count != want || res.Errors != 0 {
			t.Fatalf("completed %d with %d errors (first %v), want every one of the %d scheduled", res.Count, res.Errors, res.FirstErr, want)
		}
		mu.Lock()
		stalled := stallEnd.Sub(stallStart)
		mu.Unlock()
		// A request due in the stall's first (stalled - 150 ms) waited at least 150 ms from its
		// due time; measured from its send, only the 4 requests in flight at the stall would.
		want := int(rate*(stalled-150*time.Millisecond).Seconds()) - 1
		got := 0
		for _, lat := range res.Latencies {
			if lat >= 150*time.Millisecond {
				got++
			}
		}
		if got < want {
			t.Errorf("%d requests waited 150 ms or more, want at least %d: the stall of %v is hidden", got, want, stalled)
		}
		if top := Percentile(res.Latencies, 100); top < stall-10*time.Millisecond {
			t.Errorf("the longest latency is %v, shorter than the %v stall", top, stall)
		}
	})
}

func TestHTTPLoadStopsWhenTheContextEnds(t *testing.T) {
	runs := []struct {
		name string
		run  func(ctx context.Context, l HTTPLoad) Result
	}{
		{"closed loop", func(ctx context.Context, l HTTPLoad) Result { return l.Closed(ctx, time.Hour) }},
		{"open loop", func(ctx context.Context, l HTTPLoad) Result {
			return l.Open(ctx, Schedule{Rate: 100, Duration: time.Hour})
		}},
	}
	for _, r := range runs {
		t.Run(r.name, func(t *testing.T) {
			forEachLoad(t, func(t *testing.T, mk newLoad) {
				release := make(chan struct{})
				url, _ := rawServer(t, func(c net.Conn, n int64) bool {
					if n >= 5 {
						<-release // stall from the sixth request on
						return false
					}
					_, err := io.WriteString(c, okAnswer)
					return err == nil
				})
				defer close(release)
				l := mk(2, HTTPRequest{Method: http.MethodGet, URL: url}, time.Minute)
				ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
				defer cancel()
				start := time.Now()
				res := r.run(ctx, l)
				if el := time.Since(start); el > time.Second {
					t.Errorf("the run returned %v after it started, %v after its context ended", el, el-200*time.Millisecond)
				}
				if res.Errors != 0 || res.Count != 5 {
					t.Errorf("%d answers, %d errors (first %v): want the 5 answered, and no error for the requests cut", res.Count, res.Errors, res.FirstErr)
				}
			})
		})
	}
}

func TestAnswerSplitAnywhere(t *testing.T) {
	whole := "HTTP/1.1 200 OK\r\nContent-Length: 23\r\nConnection: close\r\n\r\n" + doc
	for cut := 1; cut < len(whole); cut++ {
		var a answer
		a.reset()
		done := false
		for _, part := range []string{whole[:cut], whole[cut:]} {
			if done {
				t.Fatalf("cut at %d: complete before its last part", cut)
			}
			k := copy(a.space(), part)
			var err error
			if done, err = a.advance(k); err != nil {
				t.Fatalf("cut at %d: %v", cut, err)
			}
		}
		if !done || a.status != 200 || a.keep || string(a.body()) != doc {
			t.Fatalf("cut at %d: done %v, status %d, keep %v, body %q", cut, done, a.status, a.keep, a.body())
		}
	}
}

func TestAnswerGrowsForALargeBody(t *testing.T) {
	body := strings.Repeat("x", 3*readBufferSize)
	whole := "HTTP/1.1 200 OK\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
	var a answer
	a.reset()
	done := false
	for rest := whole; len(rest) > 0 && !done; {
		k := copy(a.space(), rest)
		rest = rest[k:]
		var err error
		if done, err = a.advance(k); err != nil {
			t.Fatal(err)
		}
	}
	if !done || string(a.body()) != body {
		t.Fatalf("done %v, body of %d bytes, want %d", done, len(a.body()), len(body))
	}
	a.reset()
	head := "HTTP/1.1 200 OK\r\nX: " + strings.Repeat("y", len(a.buf)) + "\r\n\r\n"
	var err error
	for rest := head; len(rest) > 0 && err == nil; {
		k := copy(a.space(), rest)
		rest = rest[k:]
		_, err = a.advance(k)
	}
	if err == nil || !strings.Contains(err.Error(), "headers longer than") {
		t.Fatalf("headers longer than the buffer: error %v", err)
	}
}

func TestHTTPLoadReportsARefusedConnection(t *testing.T) {
	forEachLoad(t, func(t *testing.T, mk newLoad) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		url := "http://" + ln.Addr().String() + "/doc"
		ln.Close() // nothing listens there any more
		res := mk(2, HTTPRequest{Method: http.MethodGet, URL: url}, time.Second).Closed(context.Background(), 20*time.Millisecond)
		if res.Count != 0 || res.Errors == 0 || !errors.Is(res.FirstErr, syscall.ECONNREFUSED) || !strings.Contains(res.FirstErr.Error(), url) {
			t.Errorf("%d answers, %d errors (first %v): want refused connections, naming the URL", res.Count, res.Errors, res.FirstErr)
		}
	})
}
