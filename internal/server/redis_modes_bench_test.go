package server

import (
	"testing"

	"github.com/brokerhq/broker/internal/testutil/redistest"
)

// BenchmarkTokenEndpointSentinel measures the token endpoint with the shared state on a
// primary found through three Sentinels (with one replica), to set against
// BenchmarkTokenEndpointRedis of the same run.
func BenchmarkTokenEndpointSentinel(b *testing.B) {
	st := redistest.StartSentinel(b)
	benchTokenEndpoint(b, startServer(b, serverOptions{keyBackend: "redis", extraYAML: sentinelYAML(st), quiet: true}))
}

// BenchmarkTokenEndpointCluster measures the token endpoint with the shared state on a
// three-primary Redis Cluster, to set against BenchmarkTokenEndpointRedis of the same run.
func BenchmarkTokenEndpointCluster(b *testing.B) {
	c := redistest.StartCluster(b, 3)
	benchTokenEndpoint(b, startServer(b, serverOptions{keyBackend: "redis", extraYAML: clusterYAML(c), quiet: true}))
}
