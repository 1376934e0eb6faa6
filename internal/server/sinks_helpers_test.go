package server

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/brokerhq/broker/internal/audit"
)

// Modes of a receiver.
const (
	recvDown = "down" // resets every connection as it is accepted, as if nothing listened
	recvOK   = "ok"   // answers 204 and keeps the events
	recvSlow = "slow" // holds every request until release (then answers as the mode then says)
	recv500  = "500"  // answers 500
)

// receiver is a webhook audit sink on loopback that the test controls: it can be down (every
// connection reset), slow, failing or fine. It keeps its address bound from start to end, so no
// other socket of the machine can take the port while it is down. It checks every request's signature itself.
type receiver struct {
	t      testing.TB
	addr   string
	secret []byte

	mu       sync.Mutex
	mode     string
	srv      *http.Server
	accepted []audit.Event // events of 2xx answers, in arrival order, repeats included
	answers  map[int]int
	bad      []string // problems with requests: signature, body shape
	holding  int      // requests held now
	// inFlight counts requests being served; maxInFlight is its peak (over 1: two deliveries
	// to this sink at once).
	inFlight, maxInFlight int
	release               chan struct{}
}

// newReceiver starts a receiver on a loopback address, down until up.
func newReceiver(t testing.TB, secret []byte) *receiver {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &receiver{t: t, addr: ln.Addr().String(), secret: secret, mode: recvDown, answers: map[int]int{}, release: make(chan struct{})}
	r.srv = &http.Server{Handler: r}
	go func() { _ = r.srv.Serve(resettingListener{Listener: ln, r: r}) }()
	t.Cleanup(func() { _ = r.srv.Close() })
	return r
}

func (r *receiver) URL() string { return "http://" + r.addr + "/hook/in" }

// up starts answering in mode.
func (r *receiver) up(mode string) { r.setMode(mode) }

func (r *receiver) isDown() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.mode == recvDown
}

// resettingListener hands the receiver's server its connections, except while the receiver is
// down: then it resets each one as it is accepted (a close with no linger), which the client sees
// as a failed connection, as when nothing listens.
type resettingListener struct {
	net.Listener
	r *receiver
}

func (l resettingListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil || !l.r.isDown() {
			return c, err
		}
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		_ = c.Close()
	}
}

// setMode switches the mode; held requests are let go and answer as the new mode says.
func (r *receiver) setMode(mode string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.mode = mode
	if mode != recvSlow {
		close(r.release)
		r.release = make(chan struct{})
	}
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.inFlight++
	r.maxInFlight = max(r.maxInFlight, r.inFlight)
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.inFlight--
		r.mu.Unlock()
	}()
	body, _ := io.ReadAll(io.LimitReader(req.Body, 16<<20))
	mac := hmac.New(sha256.New, r.secret)
	mac.Write(body)
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	var payload struct {
		Events []audit.Event `json:"events"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	decodeErr := dec.Decode(&payload)

	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case req.Method != http.MethodPost || req.URL.Path != "/hook/in":
		r.bad = append(r.bad, "request "+req.Method+" "+req.URL.Path)
	case !hmac.Equal([]byte(req.Header.Get("X-Broker-Signature")), []byte(want)):
		r.bad = append(r.bad, "signature "+strconv.Quote(req.Header.Get("X-Broker-Signature")))
		w.WriteHeader(http.StatusUnauthorized)
		return
	case decodeErr != nil || len(payload.Events) == 0:
		r.bad = append(r.bad, "body "+string(body))
	}
	for r.mode == recvSlow {
		r.holding++
		release := r.release
		r.mu.Unlock()
		select {
		case <-release:
		case <-req.Context().Done():
		}
		r.mu.Lock()
		r.holding--
		if req.Context().Err() != nil {
			return
		}
	}
	if r.mode == recv500 {
		r.answers[500]++
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	r.answers[204]++
	r.accepted = append(r.accepted, payload.Events...)
	w.WriteHeader(http.StatusNoContent)
}

func (r *receiver) holdingNow() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.holding
}

func (r *receiver) answered(status int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.answers[status]
}

func (r *receiver) problems() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.bad...)
}

// received returns the accepted events as a receiver keeps them (the first copy of each id,
// in arrival order) and how many repeats it dropped.
func (r *receiver) received() ([]audit.Event, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return dedupe(r.accepted)
}

func dedupe(events []audit.Event) ([]audit.Event, int) {
	seen := map[string]bool{}
	var out []audit.Event
	for _, e := range events {
		if !seen[e.ID] {
			seen[e.ID] = true
			out = append(out, e)
		}
	}
	return out, len(events) - len(out)
}

// chain is the whole chain as ts's store holds it.
func (ts *testServer) chain(t testing.TB) []audit.Event {
	t.Helper()
	evs, from, err := ts.srv.state.audit.(audit.Reader).Range(context.Background(), 0, 1<<20)
	if err != nil || from != 0 {
		t.Fatalf("read the chain: from %d, %v", from, err)
	}
	return evs
}

// waitFor polls cond until it holds, failing the test with what after 60s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// hasChain reports whether got starts with the whole of want, event by event.
func hasChain(got, want []audit.Event) bool {
	return len(got) >= len(want) && reflect.DeepEqual(got[:len(want)], want)
}

// pendingMetric reads broker_audit_sink_pending_events{sink} from ts's /metrics (-1: absent).
func pendingMetric(t *testing.T, ts *testServer, sink string) int64 {
	t.Helper()
	m := get(t, ts.URL+"/metrics", "")
	re := regexp.MustCompile(`(?m)^broker_audit_sink_pending_events\{sink="` + regexp.QuoteMeta(sink) + `"\} (\d+)$`)
	match := re.FindSubmatch(m.body)
	if match == nil {
		return -1
	}
	n, _ := strconv.ParseInt(string(match[1]), 10, 64)
	return n
}

// fileEvents reads a file sink's lines as events; a line that is not exactly an event fails.
func fileEvents(t testing.TB, path string) []audit.Event {
	t.Helper()
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []audit.Event
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		var e audit.Event
		if err := dec.Decode(&e); err != nil {
			t.Fatalf("file sink line %d is not an event: %v: %s", len(out)+1, err, sc.Bytes())
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// receivedOfChain returns how many distinct events recv received and how many the server's
// audit chain holds.
func receivedOfChain(t *testing.T, ts *testServer, recv *receiver) (got, count int64) {
	t.Helper()
	events, _ := recv.received()
	ids := map[string]bool{}
	for _, e := range events {
		ids[e.ID] = true
	}
	return int64(len(ids)), chainHead(t, ts).Count
}

// chainHead returns the head of the server's audit chain.
func chainHead(t *testing.T, ts *testServer) audit.Head {
	t.Helper()
	head, err := ts.srv.state.audit.(interface {
		Head(context.Context) (audit.Head, error)
	}).Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return head
}
