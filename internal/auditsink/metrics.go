package auditsink

import "github.com/prometheus/client_golang/prometheus"

// pendingDesc describes broker_audit_sink_pending_events.
var pendingDesc = prometheus.NewDesc("broker_audit_sink_pending_events",
	"Events of the audit chain not yet delivered to the sink, as last seen by this replica.", []string{"sink"}, nil)

// rewindsDesc describes broker_audit_sink_rewinds_total.
var rewindsDesc = prometheus.NewDesc("broker_audit_sink_rewinds_total",
	"Times this replica moved the sink's cursor back because the audit chain went back below events the sink had received.",
	[]string{"sink"}, nil)

// Collector returns the metrics broker_audit_sink_pending_events{sink} and
// broker_audit_sink_rewinds_total{sink}, one series per sink each.
func (f *Forwarder) Collector() prometheus.Collector { return collector{f} }

type collector struct{ f *Forwarder }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- pendingDesc
	ch <- rewindsDesc
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	for _, w := range c.f.workers {
		ch <- prometheus.MustNewConstMetric(pendingDesc, prometheus.GaugeValue, float64(w.pending.Load()), w.Name)
		ch <- prometheus.MustNewConstMetric(rewindsDesc, prometheus.CounterValue, float64(w.rewinds.Load()), w.Name)
	}
}
