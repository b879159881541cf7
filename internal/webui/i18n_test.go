package webui

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/language"
)

// Every string the templates and the handlers translate has its Russian
// text in the catalogue, and Russian renders it.
func TestCatalogComplete(t *testing.T) {
	keyRE := regexp.MustCompile(`\.T "([^"]+)"|\bT\("([^"]+)"|\bTitle: "([^"]+)"|newPage\(r, "([^"]+)"\)|renderLogin\(w, r, http\.Status\w+, "([^"]+)"\)|u\.act\(w, r, "([^"]+)"`)
	var texts []string
	err := fs.WalkDir(templateFS, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(templateFS, path)
		texts = append(texts, string(b))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	goFiles, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range goFiles {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		texts = append(texts, string(b))
	}
	ruL := newLocale(language.Russian)
	n := 0
	for _, text := range texts {
		for _, m := range keyRE.FindAllStringSubmatch(text, -1) {
			key := strings.Join(m[1:], "")
			n++
			if _, ok := ru[key]; !ok {
				t.Errorf("no Russian text for %q", key)
			} else if got := ruL.T(key); got != ru[key] && !strings.Contains(key, "%") {
				t.Errorf("Russian %q renders %q, want %q", key, got, ru[key])
			}
		}
	}
	if n < 40 {
		t.Errorf("found only %d translated strings: is the pattern stale?", n)
	}
}

func TestDateAndCountdown(t *testing.T) {
	at := time.Date(2036, 3, 2, 8, 5, 0, 0, time.UTC)
	en, ru := newLocale(language.English), newLocale(language.Russian)
	for _, c := range []struct{ got, want string }{
		{en.date(at), "2 March 2036, 08:05 UTC"},
		{ru.date(at), "2 марта 2036 г., 08:05 UTC"},
		{en.date(time.Time{}), "—"},
		{en.countdown(at.Add(26*time.Hour+3*time.Minute), at), "in 1 d 2 h"},
		{en.countdown(at.Add(90*time.Minute), at), "in 1 h 30 min"},
		{ru.countdown(at.Add(-5*time.Minute), at), "просрочено на 5 мин"},
		{ru.countdown(at.Add(3*time.Hour), at), "через 3 ч 0 мин"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
