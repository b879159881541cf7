package webui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/workflow"
	"golang.org/x/text/language"
)

// The inbox shows PageSize items a page, the most urgent first, with
// links to the neighbouring pages; a page number out of range shows the
// nearest page.
func TestInboxPaging(t *testing.T) {
	now := time.Date(2036, 1, 1, 8, 0, 0, 0, time.UTC)
	data := func() *inboxData {
		d := &inboxData{}
		for i := range 250 {
			// filed in reverse order of urgency
			d.Requests = append(d.Requests, &workflow.Request{ID: fmt.Sprintf("r%03d", i), State: dialogue.RequestSubmitted, AckDeadline: now.Add(time.Duration(250-i) * time.Minute)})
		}
		for i := range 30 {
			d.Hotline = append(d.Hotline, &workflow.Hotline{ID: fmt.Sprintf("h%03d", i), AckDue: now})
		}
		return d
	}
	for _, c := range []struct {
		ask, page, prev, next, requests, hotline int
		first                                    string
	}{
		{0, 1, 0, 2, 100, 30, "r249"},
		{1, 1, 0, 2, 100, 30, "r249"},
		{2, 2, 1, 3, 100, 0, "r149"},
		{3, 3, 2, 0, 50, 0, "r049"},
		{99, 3, 2, 0, 50, 0, "r049"},
		{-5, 1, 0, 2, 100, 30, "r249"},
	} {
		d := data()
		d.paged(c.ask)
		if d.Page != c.page || d.Prev != c.prev || d.Next != c.next || len(d.Requests) != c.requests || len(d.Hotline) != c.hotline ||
			d.Requests[0].ID != c.first || d.TotalRequests != 250 || d.TotalHotline != 30 {
			t.Errorf("page %d: page %d prev %d next %d, %d requests from %s, %d messages; want %+v", c.ask, d.Page, d.Prev, d.Next, len(d.Requests), d.Requests[0].ID, len(d.Hotline), c)
		}
	}
	pages, err := parsePages()
	if err != nil {
		t.Fatal(err)
	}
	d := data()
	d.paged(2)
	var b strings.Builder
	if err := pages["inbox"].ExecuteTemplate(&b, "layout", &page{locale: newLocale(language.English), Lang: "en", Data: d, now: now}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`href="/inbox?page=1" rel="prev"`, `href="/inbox?page=3" rel="next"`, "Page 2: 250 requests and 30 hotline messages in all."} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("page 2 lacks %q", want)
		}
	}
}
