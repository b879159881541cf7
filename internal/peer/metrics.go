package peer

import "github.com/prometheus/client_golang/prometheus"

// metrics are the exchange's Prometheus metrics, labelled by peer.
type metrics struct {
	alarms   *prometheus.CounterVec
	failures *prometheus.CounterVec
	cosigned *prometheus.CounterVec
	applied  *prometheus.CounterVec
	invalid  *prometheus.CounterVec
	blobs    *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	}
	m := &metrics{
		alarms:   counter("parley_peer_alarms_total", "Alarms raised about a peer, by peer and alarm (FORK, BAD-DATA).", "peer", "alarm"),
		failures: counter("parley_peer_round_failures_total", "Exchange rounds with a peer that failed (and are retried with backoff).", "peer"),
		cosigned: counter("parley_peer_cosignatures_total", "Checkpoints of this node's logs cosigned by a peer.", "peer"),
		applied:  counter("parley_peer_entries_applied_total", "Entries of a peer's logs checked and applied here.", "peer"),
		invalid:  counter("parley_peer_objects_invalid_total", "Objects in a peer's log that do not validate here (skipped).", "peer"),
		blobs:    counter("parley_peer_blobs_fetched_total", "Evidence blobs fetched from a peer and checked.", "peer"),
	}
	if reg != nil {
		reg.MustRegister(m.alarms, m.failures, m.cosigned, m.applied, m.invalid, m.blobs)
	}
	return m
}
