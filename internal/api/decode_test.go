package api_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/api"
	"github.com/parleyhq/parley/internal/dialogue"
)

// TestDecodeJSONBad is the table of request bodies DecodeJSON refuses,
// each with what the error must name.
func TestDecodeJSONBad(t *testing.T) {
	type body struct {
		Title string  `json:"title"`
		N     float64 `json:"n"`
		Tags  []struct {
			Name string `json:"name"`
		} `json:"tags"`
	}
	for _, tc := range []struct{ in, want string }{
		{`{"title":"a","title":"b"}`, `duplicate member name "title" (at /title)`},
		{`{"tags":[{"name":"a","name":"b"}]}`, "(at /tags/0/name)"},
		{`{"n":1e999999}`, "outside the range of a double (IEEE 754 binary64) (at /n)"},
		{`{"n":` + strings.Repeat("9", 1000) + `}`, "(at /n)"},
		{`{"title":"a","x":1}`, "unknown field"},
		{`{"title":"a"} {}`, "after the top-level value"},
	} {
		var v body
		err := api.DecodeJSON(httptest.NewRequest("POST", "/", strings.NewReader(tc.in)), &v)
		if err == nil || dialogue.KindOf(err) != dialogue.KindInvalid || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%.40s: %v; want an invalid error saying %q", tc.in, err, tc.want)
		}
	}
}
