package exchange

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the exchange metrics: broker_credentials_total{provider,outcome} and
// broker_exchange_duration_seconds{provider}. Their only labels are a provider name and an
// Outcome, both from fixed lists.
type Metrics struct {
	credentials *prometheus.CounterVec
	duration    *prometheus.HistogramVec
}

// NewMetrics registers the exchange metrics with reg, with a zero series for every provider and
// outcome so that a rate is defined before the first exchange.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		credentials: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "broker_credentials_total",
			Help: "Credential exchanges by provider and outcome (success, denied, error).",
		}, []string{"provider", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "broker_exchange_duration_seconds",
			Help:    "Duration of the upstream calls of credential exchanges (retries included, broker's own token signing excluded) by provider.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14),
		}, []string{"provider"}),
	}
	reg.MustRegister(m.credentials, m.duration)
	for _, p := range Providers {
		m.forProvider(p)
	}
	return m
}

// providerMetrics are one provider's series, resolved once so that an exchange looks no label up.
type providerMetrics struct {
	outcomes map[Outcome]prometheus.Counter
	duration prometheus.Observer
}

// forProvider resolves the series of provider name.
func (m *Metrics) forProvider(name string) providerMetrics {
	pm := providerMetrics{outcomes: make(map[Outcome]prometheus.Counter, len(Outcomes))}
	if m == nil {
		return pm
	}
	for _, o := range Outcomes {
		pm.outcomes[o] = m.credentials.WithLabelValues(name, string(o))
	}
	pm.duration = m.duration.WithLabelValues(name)
	return pm
}
