package webui

import (
	"fmt"
	"io"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/workflow"
)

// BenchmarkInboxTemplate sorts, pages and renders the inbox with 10,000
// requests and 10,000 hotline messages: the web UI's share of the page's
// time (the workflow's reads of the store are not in it).
func BenchmarkInboxTemplate(b *testing.B) {
	pages, err := parsePages()
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2036, 1, 1, 8, 0, 0, 0, time.UTC)
	d := &inboxData{}
	for i := range 10000 {
		d.Requests = append(d.Requests, &workflow.Request{ID: fmt.Sprintf("parley-request--%08d-0000-4000-8000-000000000000", i), Name: "Please take down the C2 server.", From: "party-a",
			State: dialogue.RequestSubmitted, AckDeadline: now.Add(time.Duration(i) * time.Minute), AnswerDeadline: now.Add(72 * time.Hour), AckOverdue: i%2 == 0})
		d.Hotline = append(d.Hotline, &workflow.Hotline{ID: fmt.Sprintf("parley-hotline--%08d-0000-4000-8000-000000000000", i), Text: "Call us.", From: "party-a", Priority: workflow.PriorityUrgent, AckDue: now})
	}
	req := httptest.NewRequest("GET", "/inbox", nil)
	req.Header.Set("Accept-Language", "ru")
	b.ResetTimer()
	for b.Loop() {
		d := &inboxData{Requests: slices.Clone(d.Requests), Hotline: slices.Clone(d.Hotline)}
		d.paged(1)
		p := &page{locale: newLocale(langOf(req)), Lang: "ru", Title: "Inbox", CanWrite: true, CSRF: "token", Data: d, now: now}
		if err := pages["inbox"].ExecuteTemplate(io.Discard, "layout", p); err != nil {
			b.Fatal(err)
		}
	}
}
