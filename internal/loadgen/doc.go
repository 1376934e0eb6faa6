// Package loadgen is broker's load program: it measures the token path, the public documents,
// latency under load, resident memory and catalog scale of a broker server, each figure against
// a reference taken in the same run (the machine's raw signing rate, nginx serving the same
// bytes, the same server with a small catalog), and judges each against its target.
//
// The server under test runs as a child process (`broker serve` on a generated configuration)
// so that its resident memory is its own and the load driver does not share its heap; the
// driver still shares the machine's cores with it, and with redis-server and nginx when they
// take part. A closed loop keeps a fixed number of keep-alive clients busy; an open loop sends
// on a fixed schedule and measures each latency from the scheduled send time, so that a stall
// shows in every request it delayed instead of hiding behind the clients that waited for it.
// Both loops send their measured requests through an HTTPLoad: for plain http on Linux, one
// event loop on one thread owning every keep-alive connection (epoll, request bytes built once,
// answers parsed in place, nothing allocated per request), so the driver takes as little as it
// can of the cores it shares with the server; elsewhere, one goroutine per connection with the
// same parsing rules. Every side of a comparison uses the same driver.
package loadgen
