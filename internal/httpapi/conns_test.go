package httpapi_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/httpapi"
)

// Shutdown lets a request in flight finish, but does not wait for a
// connection that never sent one.
func TestShutdownIdleAndInFlight(t *testing.T) {
	s := httpapi.New(httpapi.Config{Store: newStore(t), Insecure: true})
	release := make(chan struct{})
	s.MountPublic("/slow", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		io.WriteString(w, "done")
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	// A connection that sends nothing.
	quiet, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer quiet.Close()
	// A request in flight.
	got := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/slow")
		if err != nil {
			got <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got <- string(b)
	}()
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	shut := make(chan error, 1)
	go func() { shut <- s.Shutdown(context.Background()) }()
	time.Sleep(300 * time.Millisecond)
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned with a request in flight: %v", err)
	default:
	}
	close(release)
	if b := <-got; b != "done" {
		t.Errorf("the request in flight got %q", b)
	}
	select {
	case err := <-shut:
		if err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("Shutdown took %s: it waited for the quiet connection", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Shutdown did not return")
	}
}
