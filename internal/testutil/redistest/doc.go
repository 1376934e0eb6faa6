// Package redistest starts private Redis servers for a test.
//
// Start runs redis-server from PATH as a child process bound to 127.0.0.1 on a free port, with
// its data in a fresh t.TempDir() and an append-only file fsynced on every write, so that data
// survives Stop/Kill and Restart. StartWith adds arguments (a replica, cluster mode).
// StartSentinel runs a primary, a replica and three redis-sentinel processes watching them;
// StartCluster runs a Redis Cluster of primaries. Every process is stopped by its PID when
// the test ends. Nothing assumes a Redis is already running, and nothing listens beyond the
// loopback interface.
//
// When redis-server (or, for StartSentinel, redis-sentinel) is not installed the test is
// skipped, unless the environment variable BROKER_REQUIRE_REDIS is 1 (as in CI), in which
// case it fails.
package redistest
