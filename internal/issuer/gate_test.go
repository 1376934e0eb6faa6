package issuer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"io"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestSignGateDefaultsToTheCores(t *testing.T) {
	if got, want := cap(newSignGate(0)), runtime.GOMAXPROCS(0); got != want {
		t.Errorf("default bound %d, want GOMAXPROCS %d", got, want)
	}
	if got := cap(newSignGate(3)); got != 3 {
		t.Errorf("bound %d, want 3", got)
	}
}

// TestSignGateBoundsAndQueuesInOrder holds the gate's one slot, queues waiters one after the
// other, and checks that no two are inside at once and that they enter in arrival order.
func TestSignGateBoundsAndQueuesInOrder(t *testing.T) {
	g := newSignGate(1)
	g.enter()
	var (
		inside, maxInside atomic.Int32
		mu                sync.Mutex
		order             []int
		wg                sync.WaitGroup
	)
	const waiters = 20
	for i := range waiters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g.enter()
			if n := inside.Add(1); n > maxInside.Load() {
				maxInside.Store(n)
			}
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			inside.Add(-1)
			g.leave()
		}()
		// Wait until waiter i is queued before starting the next one.
		for deadline := time.Now().Add(5 * time.Second); queued(g) < i+1; {
			if time.Now().After(deadline) {
				t.Fatalf("waiter %d never queued", i)
			}
			runtime.Gosched()
		}
	}
	g.leave()
	wg.Wait()
	if maxInside.Load() != 1 {
		t.Errorf("%d inside at once, want 1", maxInside.Load())
	}
	for i, w := range order {
		if w != i {
			t.Fatalf("entry order %v, want arrival order", order)
		}
	}
}

// queued counts goroutines blocked entering g, from the goroutine dump: a goroutine still on
// its way into enter is not queued yet, and counting it would let the next waiter overtake it.
func queued(g signGate) int {
	buf := make([]byte, 1<<20)
	n := runtime.Stack(buf, true)
	count := 0
	for _, gr := range strings.Split(string(buf[:n]), "\n\n") {
		head, _, _ := strings.Cut(gr, "\n")
		if strings.Contains(head, "[chan send") && strings.Contains(gr, "issuer.signGate.enter") {
			count++
		}
	}
	return count
}

type wrappedSigner struct{ crypto.Signer }

func (wrappedSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) { return nil, nil }

func TestInProcessSigners(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	if !inProcess(ec) || !inProcess(ed) {
		t.Error("an in-memory private key is not in process")
	}
	if inProcess(wrappedSigner{ec}) {
		t.Error("a wrapped (remote) signer counts as in process")
	}
}

// TestSignGateLetsArrivalsQueueBeforeASlowSignatureItWaitedFor checks when a signer yields the
// processor before signing: only after waiting for its slot, and only for a slow (RSA) key.
func TestSignGateLetsArrivalsQueueBeforeASlowSignatureItWaitedFor(t *testing.T) {
	var yields atomic.Int32
	orig := letArrivalsQueue
	letArrivalsQueue = func() { yields.Add(1) }
	t.Cleanup(func() { letArrivalsQueue = orig })
	for _, tc := range []struct {
		name     string
		length   signLength
		mustWait bool
		want     int32
	}{
		{"slow key, free slot: signs at once", longSign, false, 0},
		{"slow key, slot taken over after a wait: yields once", longSign, true, 1},
		{"fast key after a wait: signs at once", shortSign, true, 0},
		{"fast key, free slot", shortSign, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			yields.Store(0)
			g := newSignGate(1)
			if tc.mustWait {
				g.enter()
			}
			done := make(chan struct{})
			go func() { g.enterFor(tc.length); close(done) }()
			if tc.mustWait {
				for deadline := time.Now().Add(5 * time.Second); queued(g) < 1; {
					if time.Now().After(deadline) {
						t.Fatal("the signer never queued")
					}
					runtime.Gosched()
				}
				g.leave()
			}
			<-done
			if got := yields.Load(); got != tc.want {
				t.Errorf("yielded %d times, want %d", got, tc.want)
			}
		})
	}
}

func TestSignGateEnterReportsWaiting(t *testing.T) {
	g := newSignGate(1)
	if g.enter() {
		t.Fatal("enter on a free slot reported a wait")
	}
	waited := make(chan bool)
	go func() { waited <- g.enter() }()
	select {
	case <-waited:
		t.Fatal("enter on a full gate did not wait")
	case <-time.After(50 * time.Millisecond):
	}
	g.leave()
	if !<-waited {
		t.Fatal("enter after a wait reported none")
	}
}

func TestSignLengthOf(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		key  crypto.Signer
		want signLength
	}{{"RSA", rsaKey, longSign}, {"ECDSA", ecKey, shortSign}, {"Ed25519", edKey, shortSign}} {
		if got := signLengthOf(tc.key); got != tc.want {
			t.Errorf("signLengthOf(%s) = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestIssuerIdle checks that the issuer is idle only while no signature holds a slot of its
// gate: not while one signs, nor while one signs and another waits, and again once both leave.
func TestIssuerIdle(t *testing.T) {
	iss := &Issuer{gate: newSignGate(1)}
	if !iss.Idle() {
		t.Fatalf("a fresh issuer is not idle")
	}
	iss.gate.enter()
	if iss.Idle() {
		t.Fatalf("idle while a signature holds the gate")
	}
	entered := make(chan struct{})
	go func() {
		iss.gate.enter()
		close(entered)
	}()
	select {
	case <-entered:
		t.Fatalf("the waiter entered a full gate")
	case <-time.After(20 * time.Millisecond):
	}
	if iss.Idle() {
		t.Fatalf("idle while a signature signs and another waits")
	}
	iss.gate.leave()
	<-entered
	if iss.Idle() {
		t.Fatalf("idle while the former waiter signs")
	}
	iss.gate.leave()
	if !iss.Idle() {
		t.Fatalf("not idle once every signature left")
	}
}
