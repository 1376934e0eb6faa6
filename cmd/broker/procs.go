package main

import (
	"os"
	"runtime"
)

// serveProcs splits the Go scheduler's processors of broker serve between signing and the
// network. Signatures are pure CPU and are bounded to the cores (signs = cores), first come,
// first served; one processor more (procs = cores + 1) is then never busy signing, so it polls
// the network as soon as a request, an answer from Redis or a connection arrives. Without it,
// both processors sign back to back, handing the gate from one waiter to the next, and a newly
// arrived request is read only when the runtime next polls the network (up to tens of
// milliseconds later): it reaches the signing queue late, and latency at saturation turns
// unfair. The extra processor costs nothing while idle: it sleeps in the network poller.
//
// env is $GOMAXPROCS: when the operator set it, their value stands and every processor may sign.
func serveProcs(cores int, env string) (procs, signs int) {
	if cores < 1 {
		cores = 1
	}
	if env != "" {
		return cores, cores
	}
	return cores + 1, cores
}

// startProcs is GOMAXPROCS as the process started: the cores the runtime found (or the
// operator's $GOMAXPROCS), read before applyServeProcs raises it, so that serving twice in one
// process (the tests do) does not raise it twice.
var startProcs = runtime.GOMAXPROCS(0)

// applyServeProcs applies serveProcs to this process and returns the signing bound.
func applyServeProcs() int {
	procs, signs := serveProcs(startProcs, os.Getenv("GOMAXPROCS"))
	if procs != runtime.GOMAXPROCS(0) {
		runtime.GOMAXPROCS(procs)
	}
	return signs
}
