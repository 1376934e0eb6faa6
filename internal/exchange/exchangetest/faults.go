package exchangetest

import (
	"net/http"
	"strings"
	"sync"
)

// Fault is one scripted answer to a target request.
type Fault struct {
	// Status, ContentType and Body are the answer when Hang is false. Body may hold Placeholder,
	// replaced at answer time by the last broker token minted.
	Status      int
	ContentType string
	Body        string
	// Location, when set, is sent as the answer's Location header: with a 3xx Status, a
	// redirect.
	Location string
	// Hang holds the request without answering until the client gives up.
	Hang bool
}

// Placeholder in a Fault's Body stands for the last broker token minted, so that an upstream
// message can echo the token the way a careless upstream might.
const Placeholder = "{{token}}"

// Faults wraps an upstream handler: requests its target matches get the scripted faults in
// order, then the one repeated fault if set, then the upstream's own answer. Other requests
// (discovery documents, a second call) always get the upstream's answer.
type Faults struct {
	target func(*http.Request) bool
	token  func() string

	mu      sync.Mutex
	script  []Fault
	always  *Fault
	calls   int
	arrived chan struct{}
	release chan struct{}
	closed  bool
}

func newFaults(target func(*http.Request) bool, token func() string) *Faults {
	return &Faults{target: target, token: token, arrived: make(chan struct{}, 1024), release: make(chan struct{})}
}

// Wrap returns next behind the faults.
func (f *Faults) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !f.target(r) {
			next.ServeHTTP(w, r)
			return
		}
		fault, ok := f.next()
		select {
		case f.arrived <- struct{}{}:
		default:
		}
		switch {
		case !ok:
			next.ServeHTTP(w, r)
		case fault.Hang:
			select {
			case <-r.Context().Done():
			case <-f.release:
			}
		default:
			if fault.ContentType != "" {
				w.Header().Set("Content-Type", fault.ContentType)
			}
			if fault.Location != "" {
				w.Header().Set("Location", fault.Location)
			}
			w.WriteHeader(fault.Status)
			_, _ = w.Write([]byte(strings.ReplaceAll(fault.Body, Placeholder, f.token())))
		}
	})
}

// next counts a target request and returns its fault, if any.
func (f *Faults) next() (Fault, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if len(f.script) > 0 {
		fault := f.script[0]
		f.script = f.script[1:]
		return fault, true
	}
	if f.always != nil {
		return *f.always, true
	}
	return Fault{}, false
}

// queue scripts faults for the next target requests.
func (f *Faults) queue(faults ...Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.script = append(f.script, faults...)
}

// repeat answers every target request after the script with fault.
func (f *Faults) repeat(fault Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.always = &fault
}

// Calls returns how many target requests arrived.
func (f *Faults) Calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// close releases every hanging request.
func (f *Faults) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.closed {
		f.closed = true
		close(f.release)
	}
}
