package server

import (
	"net/http"

	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/exchange/aws"
	"github.com/brokerhq/broker/internal/exchange/azure"
	"github.com/brokerhq/broker/internal/exchange/gcp"
	"github.com/brokerhq/broker/internal/exchange/vault"
)

// newExchangers builds one exchanger per provider for s.cfg, each behind exchange.Observe, which
// times, counts and logs every exchange into metrics and s.log. transport, when not nil,
// replaces the default outbound transport (which trusts the system pool and honours proxy
// variables); tests use it to trust an emulator's certificate.
func (s *Server) newExchangers(transport http.RoundTripper, metrics *exchange.Metrics) map[string]exchange.Exchanger {
	var client, awsClient *http.Client
	if transport != nil {
		client = exchange.NewHTTPClient(exchange.ClientOptions{Base: transport})
		awsClient = exchange.NewHTTPClient(exchange.ClientOptions{Base: transport, Retryable: aws.Retryable})
	}
	out := map[string]exchange.Exchanger{
		exchange.AWS:   aws.New(aws.Options{Issuer: s.cfg.Issuer, HTTPClient: awsClient, Logger: s.log}),
		exchange.GCP:   gcp.New(gcp.Options{HTTPClient: client, Logger: s.log}),
		exchange.Azure: azure.New(azure.Options{HTTPClient: client, Logger: s.log}),
		exchange.Vault: vault.New(vault.Options{HTTPClient: client, Logger: s.log}),
	}
	for name, x := range out {
		out[name] = exchange.Observe(x, exchange.ObserveConfig{Provider: name, Logger: s.log, Metrics: metrics})
	}
	return out
}
