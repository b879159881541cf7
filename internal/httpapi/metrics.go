package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/parleyhq/parley/internal/dialogue"
)

// metrics are the node's Prometheus metrics, on a registry of their own.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	imports  *prometheus.CounterVec
	// peerRefused counts refused peer connections and requests by reason.
	peerRefused *prometheus.CounterVec
	// handshakeFailures counts failed TLS handshakes, refused peers' among
	// them.
	handshakeFailures prometheus.Counter
}

func newMetrics(st dialogue.Store) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_http_requests_total",
			Help: "HTTP requests by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "parley_http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern and method.",
			Buckets: []float64{.001, .0025, .005, .01, .02, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method"}),
		imports: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_import_objects_total",
			Help: "Objects received through the API, by outcome (new, unchanged, rejected).",
		}, []string{"outcome"}),
	}
	for _, o := range []string{"new", "unchanged", "rejected"} {
		m.imports.WithLabelValues(o)
	}
	m.peerRefused = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "parley_peer_refused_total",
		Help: "Clients refused as peers, by reason: unknown_pin (a TLS client certificate no peer has), lookup_failed (the peer store could not be asked), not_peer (a peer-only route asked without a peer certificate).",
	}, []string{"reason"})
	for _, r := range []string{refusedUnknownPin, refusedLookupFailed, refusedNotPeer} {
		m.peerRefused.WithLabelValues(r)
	}
	m.handshakeFailures = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "parley_tls_handshake_failures_total",
		Help: "TLS handshakes that failed (junk, scanners, plain HTTP, refused peers); the log has at most one line a minute about them.",
	})
	m.registry.MustRegister(m.requests, m.latency, m.imports, m.peerRefused, m.handshakeFailures,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	if st != nil {
		m.registry.MustRegister(&storeCollector{store: st})
	}
	return m
}

// storeCollector reads Store.Stats at each scrape.
type storeCollector struct{ store dialogue.Store }

var (
	objectsDesc     = prometheus.NewDesc("parley_store_objects", "Object versions stored, over all collections.", nil, nil)
	collectionsDesc = prometheus.NewDesc("parley_store_collections", "Collections on this node.", nil, nil)
)

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- objectsDesc
	ch <- collectionsDesc
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := c.store.Stats(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(objectsDesc, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(objectsDesc, prometheus.GaugeValue, float64(s.Objects))
	ch <- prometheus.MustNewConstMetric(collectionsDesc, prometheus.GaugeValue, float64(s.Collections))
}

// requestInfo travels in a request's context so that inner handlers can
// tell the outer logging and metrics middleware who the user was and what
// was imported.
type requestInfo struct {
	user    string
	peer    string
	metrics *metrics
	logger  *slog.Logger
}

type infoKey struct{}

func infoFrom(ctx context.Context) *requestInfo {
	ri, _ := ctx.Value(infoKey{}).(*requestInfo)
	return ri
}

// LoggerFrom returns the logger of the server handling the request ctx
// belongs to, or slog.Default().
func LoggerFrom(ctx context.Context) *slog.Logger {
	if ri := infoFrom(ctx); ri != nil && ri.logger != nil {
		return ri.logger
	}
	return slog.Default()
}

// RecordImport counts objects received through the API by outcome, in the
// metrics of the server that handles the request ctx belongs to. Outside
// such a request it does nothing.
func RecordImport(ctx context.Context, added, unchanged, rejected int) {
	ri := infoFrom(ctx)
	if ri == nil || ri.metrics == nil {
		return
	}
	ri.metrics.imports.WithLabelValues("new").Add(float64(added))
	ri.metrics.imports.WithLabelValues("unchanged").Add(float64(unchanged))
	ri.metrics.imports.WithLabelValues("rejected").Add(float64(rejected))
}

// observe logs every request and records its metrics. It logs the method,
// route pattern, status, duration and user, never headers or bodies.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ri := &requestInfo{metrics: s.metrics, logger: s.logger}
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		defer func() {
			d := time.Since(start)
			route := "unmatched"
			if rc := chi.RouteContext(r.Context()); rc != nil {
				if p := rc.RoutePattern(); p != "" {
					route = p
				}
			}
			status := ww.Status()
			if status == 0 {
				status = http.StatusOK
			}
			s.metrics.requests.WithLabelValues(route, r.Method, strconv.Itoa(status)).Inc()
			s.metrics.latency.WithLabelValues(route, r.Method).Observe(d.Seconds())
			level := slog.LevelInfo
			if status >= 500 {
				level = slog.LevelError
			}
			s.logger.LogAttrs(r.Context(), level, "request",
				slog.String("method", r.Method),
				slog.String("route", route),
				slog.String("path", r.URL.Path),
				slog.Int("status", status),
				slog.Duration("duration", d),
				slog.Int("bytes", ww.BytesWritten()),
				slog.String("user", ri.user),
				slog.String("peer", ri.peer),
				slog.String("remote", r.RemoteAddr),
			)
		}()
		next.ServeHTTP(ww, r.WithContext(context.WithValue(r.Context(), infoKey{}, ri)))
	})
}
