package auditsink

import "github.com/prometheus/client_golang/prometheus"

// pendingDesc describes broker_audit_sink_pending_events.
var pendingDesc = prometheus.NewDesc("broker_audit_sink_pending_events",
	"Events of the audit chain not yet delivered to the sink, as last seen by this replica.", []string{"sink"}, nil)

// Collector returns the metric broker_audit_sink_pending_events{sink}, one series per sink.
func (f *Forwarder) Collector() prometheus.Collector { return collector{f} }

type collector struct{ f *Forwarder }

func (c collector) Describe(ch chan<- *prometheus.Desc) { ch <- pendingDesc }

func (c collector) Collect(ch chan<- prometheus.Metric) {
	for _, w := range c.f.workers {
		ch <- prometheus.MustNewConstMetric(pendingDesc, prometheus.GaugeValue, float64(w.pending.Load()), w.Name)
	}
}
