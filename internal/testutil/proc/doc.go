// Package proc runs the child processes of test servers (redistest, vaulttest): it picks a free
// loopback port, starts a child as the leader of its own process group, waits until the child
// is ready, stops it by PID with SIGTERM and then, after a grace period, its whole group with
// SIGKILL, and quotes the end of its log in failure messages.
package proc
