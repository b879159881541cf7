package httpapi

import "github.com/prometheus/client_golang/prometheus"

// Registerer returns the registry /metrics serves, for other parts of the
// node (the exchange with peers) to add their metrics to.
func (s *Server) Registerer() prometheus.Registerer { return s.metrics.registry }
