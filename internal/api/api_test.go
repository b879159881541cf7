package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/node"
	"github.com/parleyhq/parley/internal/server"
	"github.com/parleyhq/parley/internal/taxii"
)

// The OpenAPI document is served without credentials, is OpenAPI 3.1, and
// describes every routed endpoint; the endpoints need a user.
func TestOpenAPIServed(t *testing.T) {
	ctx := context.Background()
	n, created, err := node.Init(ctx, filepath.Join(t.TempDir(), "a"), node.InitOptions{Name: "party-a", Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := server.Start(ctx, n, server.Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(5 * time.Second)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: taxii.ClientTLS(created.Pin, false)}}
	resp, err := client.Get(s.URL + "/api/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var doc map[string]any
	if resp.StatusCode != 200 || json.Unmarshal(body, &doc) != nil || doc["openapi"] != "3.1.0" {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	paths, _ := doc["paths"].(map[string]any)
	for p, item := range paths {
		for method, op := range item.(map[string]any) {
			o := op.(map[string]any)
			if o["summary"] == nil || o["responses"] == nil {
				t.Errorf("%s %s: no summary or responses", strings.ToUpper(method), p)
			}
		}
		// Each described path needs a user.
		path := strings.NewReplacer("{id}", "x").Replace(p)
		resp, err := client.Get(s.URL + "/api" + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET /api%s without credentials: %d, want 401", path, resp.StatusCode)
		}
	}
}
