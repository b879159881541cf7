package taxii

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/httpapi"
)

// TestParseBodyBadCases is the table of POST bodies parseBody refuses:
// each gets the status the specification gives and a message naming
// what is wrong.
func TestParseBodyBadCases(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		stix       bool
		status     int
		want       string
	}{
		{"empty", ``, false, http.StatusBadRequest, "not valid JSON"},
		{"truncated", `{"objects":[`, false, http.StatusBadRequest, "not valid JSON"},
		{"trailing comma", `{"objects":[],}`, false, http.StatusBadRequest, "not valid JSON"},
		{"array", `[{"type":"indicator"}]`, false, http.StatusUnprocessableEntity, "not an object"},
		{"string", `"objects"`, false, http.StatusUnprocessableEntity, "not an object"},
		{"no objects", `{"more":false}`, false, http.StatusUnprocessableEntity, "/objects: missing"},
		{"objects not array", `{"objects":{"type":"indicator"}}`, false, http.StatusUnprocessableEntity, "/objects: not an array"},
		{"object not object", `{"objects":[{"type":"x"}, 3]}`, false, http.StatusUnprocessableEntity, "/objects/1: not a JSON object"},
		{"type not string", `{"type":3,"objects":[]}`, false, http.StatusUnprocessableEntity, "/type: not a string"},
		{"single object", `{"type":"indicator","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"}`, false, http.StatusUnprocessableEntity, `single "indicator" object`},
		{"stix type needs bundle", `{"objects":[]}`, true, http.StatusUnprocessableEntity, "must be a STIX bundle"},
		{"duplicate objects", `{"objects":[],"objects":[]}`, false, http.StatusBadRequest, `duplicate member name "objects" (at /objects)`},
		{"duplicate more", `{"more":false,"objects":[],"more":true}`, false, http.StatusBadRequest, `duplicate member name "more" (at /more)`},
		{"duplicate nested", `{"objects":[],"x_meta":{"a":[{"b":1,"b":1}]}}`, false, http.StatusBadRequest, "(at /x_meta/a/0/b)"},
		{"duplicate in bundle", `{"type":"bundle","type":"bundle","objects":[]}`, true, http.StatusBadRequest, `duplicate member name "type"`},
		{"number out of range", `{"objects":[{"type":"x"},{"type":"x","x_count":1e999999}]}`, false, http.StatusBadRequest, "outside the range of a double (IEEE 754 binary64) (at /objects/1/x_count)"},
		{"integer out of range", `{"objects":[{"type":"x","x_n":[` + strings.Repeat("9", 100_000) + `]}]}`, false, http.StatusBadRequest, "(at /objects/0/x_n/0)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			objs, err := parseBody([]byte(tc.body), tc.stix)
			if err == nil {
				t.Fatalf("accepted, %d objects", len(objs))
			}
			if got := httpapi.StatusOf(err); got != tc.status {
				t.Errorf("status %d, want %d (%v)", got, tc.status, err)
			}
			if dialogue.KindOf(err) != dialogue.KindInvalid {
				t.Errorf("kind %v, want invalid", dialogue.KindOf(err))
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
		})
	}
}

// FuzzParseBody: parseBody never panics, and what it accepts is a list
// of JSON objects.
func FuzzParseBody(f *testing.F) {
	for _, s := range []string{
		`{"objects":[]}`,
		`{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[{"type":"x"}]}`,
		`{"objects":[{"type":"indicator"},{"a":[1,2,{"b":null}]}]}`,
		`{"objects":[1]}`, `[]`, `{`, `{"type":"indicator"}`,
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, body []byte, stixType bool) {
		objs, err := parseBody(body, stixType)
		if err != nil {
			if s := httpapi.StatusOf(err); s != http.StatusBadRequest && s != http.StatusUnprocessableEntity {
				t.Fatalf("status %d for a client's body: %v", s, err)
			}
			return
		}
		for i, o := range objs {
			var m map[string]json.RawMessage
			if json.Unmarshal(o, &m) != nil {
				t.Fatalf("accepted /objects/%d = %q, not a JSON object", i, o)
			}
		}
	})
}
