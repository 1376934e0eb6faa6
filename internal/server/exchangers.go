package server

import (
	"log/slog"
	"net/http"

	"github.com/brokerhq/broker/internal/config"
	"github.com/brokerhq/broker/internal/exchange"
	"github.com/brokerhq/broker/internal/exchange/aws"
	"github.com/brokerhq/broker/internal/exchange/azure"
	"github.com/brokerhq/broker/internal/exchange/gcp"
	"github.com/brokerhq/broker/internal/exchange/vault"
)

// newExchangers builds one exchanger per provider, each behind exchange.Observe, which times,
// counts and logs every exchange into metrics and log. transport, when not nil, replaces the
// default outbound transport (which trusts the system pool and honours proxy variables); tests
// use it to trust an emulator's certificate.
func newExchangers(cfg *config.Config, transport http.RoundTripper, log *slog.Logger, metrics *exchange.Metrics) map[string]exchange.Exchanger {
	var client, awsClient *http.Client
	if transport != nil {
		client = exchange.NewHTTPClient(exchange.ClientOptions{Base: transport})
		awsClient = exchange.NewHTTPClient(exchange.ClientOptions{Base: transport, Retryable: aws.Retryable})
	}
	out := map[string]exchange.Exchanger{
		exchange.AWS:   aws.New(aws.Options{Issuer: cfg.Issuer, HTTPClient: awsClient, Logger: log}),
		exchange.GCP:   gcp.New(gcp.Options{HTTPClient: client, Logger: log}),
		exchange.Azure: azure.New(azure.Options{HTTPClient: client, Logger: log}),
		exchange.Vault: vault.New(vault.Options{HTTPClient: client, Logger: log}),
	}
	for name, x := range out {
		out[name] = exchange.Observe(x, exchange.ObserveConfig{Provider: name, Logger: log, Metrics: metrics})
	}
	return out
}
