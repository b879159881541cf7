package taxii

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
)

const allParams = ParamAddedAfter | ParamLimit | ParamNext | ParamMatchID | ParamMatchType | ParamMatchVersion | ParamMatchSpecVersion

func TestParseQuery(t *testing.T) {
	v, _ := url.ParseQuery("added_after=2016-11-01T03:04:05.123456Z&limit=50&next=p1.abc" +
		"&match[id]=indicator--cd981c25-8042-4166-8945-51178443bdac,malware--c0931cc6-c75e-47e5-9036-78fabc95d4ec" +
		"&match[type]=indicator&match[type]=x-mitre-tactic&match[version]=first,2016-12-25T12:30:59.444Z&match[spec_version]=2.1&other=1")
	q, err := ParseQuery(v, allParams)
	if err != nil {
		t.Fatal(err)
	}
	if !q.AddedAfter.Equal(time.Date(2016, 11, 1, 3, 4, 5, 123456000, time.UTC)) || q.Limit != 50 || q.Next != "p1.abc" ||
		len(q.IDs) != 2 || len(q.Types) != 2 || q.Types[1] != "x-mitre-tactic" || !q.Versions.First || q.Versions.Last ||
		len(q.Versions.At) != 1 || len(q.SpecVersions) != 1 {
		t.Errorf("%+v", q)
	}
	// Parameters an endpoint does not take are ignored.
	q, err = ParseQuery(url.Values{"match[id]": {"bad"}, "limit": {"2"}}, ParamLimit)
	if err != nil || q.Limit != 2 || q.IDs != nil {
		t.Errorf("%+v %v", q, err)
	}
}

func TestParseQueryBad(t *testing.T) {
	for _, tc := range []struct {
		query, param, reason string
	}{
		{"added_after=yesterday", "added_after", "not a timestamp"},
		{"added_after=2016-11-01T03:04:05", "added_after", "not a timestamp"},
		{"added_after=2016-11-01T03:04:05%2B01:00", "added_after", "not a timestamp"},
		{"added_after=2016-13-01T03:04:05Z", "added_after", "not a timestamp"},
		{"added_after=", "added_after", "empty"},
		{"added_after=2016-11-01T03:04:05Z&added_after=2016-11-01T03:04:05Z", "added_after", "given 2 times"},
		{"limit=0", "limit", "not a positive integer"},
		{"limit=-1", "limit", "not a positive integer"},
		{"limit=%2B5", "limit", "not a positive integer"},
		{"limit=1.5", "limit", "not a positive integer"},
		{"limit=99999999999999999999", "limit", "not a positive integer"},
		{"limit=", "limit", "empty"},
		{"next=", "next", "empty"},
		{"next=a%20b", "next", "never has"},
		{"next=" + strings.Repeat("a", 600), "next", "longer than"},
		{"match[id]=indicator", "match[id]", "not a STIX id"},
		{"match[id]=indicator--1234", "match[id]", "not a STIX id"},
		{"match[id]=Indicator--cd981c25-8042-4166-8945-51178443bdac", "match[id]", "not a STIX id"},
		{"match[id]=", "match[id]", "empty value"},
		{"match[id]=indicator--cd981c25-8042-4166-8945-51178443bdac,", "match[id]", "empty value"},
		{"match[type]=ab", "match[type]", "not a STIX type"},
		{"match[type]=Indicator", "match[type]", "not a STIX type"},
		{"match[type]=in_dicator", "match[type]", "not a STIX type"},
		{"match[version]=newest", "match[version]", "not first, last, all"},
		{"match[version]=2016-11-01", "match[version]", "not first, last, all"},
		{"match[version]=first,,last", "match[version]", "empty value"},
		{"match[spec_version]=2", "match[spec_version]", "not a STIX version"},
		{"match[spec_version]=v2.1", "match[spec_version]", "not a STIX version"},
		{"match[type]=" + strings.Repeat("abc,", 1001), "match[type]", "more than 1000 values"},
	} {
		v, err := url.ParseQuery(tc.query)
		if err != nil {
			t.Fatal(err)
		}
		_, err = ParseQuery(v, allParams)
		var pe *ParamError
		if !errors.As(err, &pe) || dialogue.KindOf(err) != dialogue.KindInvalid {
			t.Errorf("%.60s: err %v, want an invalid *ParamError", tc.query, err)
			continue
		}
		if pe.Param != tc.param || !strings.Contains(pe.Reason, tc.reason) || !strings.Contains(err.Error(), tc.param) {
			t.Errorf("%.60s: %v (param %q, reason %q), want param %q and reason %q", tc.query, err, pe.Param, pe.Reason, tc.param, tc.reason)
		}
	}
}

func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{
		"added_after=2016-11-01T03:04:05.000Z&limit=10",
		"match[version]=first,last,all,2016-12-25T12:30:59.444Z",
		"match[id]=indicator--cd981c25-8042-4166-8945-51178443bdac&match[type]=indicator",
		"match[spec_version]=2.0,2.1&next=p1.abc",
		"limit=-1&added_after=x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := ParseQuery(v, allParams)
		if err != nil {
			var pe *ParamError
			if !errors.As(err, &pe) || pe.Param == "" || pe.Reason == "" || dialogue.KindOf(err) != dialogue.KindInvalid {
				t.Fatalf("error %v is not an invalid *ParamError naming a parameter and a reason", err)
			}
			return
		}
		if q.Limit < 0 || (q.Limit == 0 && v.Has("limit")) {
			t.Fatalf("limit %d accepted from %q", q.Limit, v.Get("limit"))
		}
		for _, id := range q.IDs {
			if !validID(id) {
				t.Fatalf("bad id %q accepted", id)
			}
		}
		if !q.AddedAfter.IsZero() && q.AddedAfter.Location() != time.UTC {
			t.Fatalf("added_after not in UTC: %v", q.AddedAfter)
		}
	})
}
