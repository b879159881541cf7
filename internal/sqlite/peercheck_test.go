package sqlite

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/parleyhq/parley/internal/dialogue"
)

// FuzzCheckChannel feeds checkChannel, which guards the channels a peer
// offers, with arbitrary ids, titles and descriptions: what it accepts
// has a canonical UUID, a one-line UTF-8 title within bounds; what it
// refuses, it refuses naming the field.
func FuzzCheckChannel(f *testing.F) {
	f.Add("6f1c2b1e-8a4d-4c4e-9d51-0a3f7e2b9c10", "incidents", "about incidents")
	f.Add("6F1C2B1E-8A4D-4C4E-9D51-0A3F7E2B9C10", "x", "")
	f.Add("urn:uuid:6f1c2b1e-8a4d-4c4e-9d51-0a3f7e2b9c10", "x", "")
	f.Add("{6f1c2b1e-8a4d-4c4e-9d51-0a3f7e2b9c10}", "x", "")
	f.Add("6f1c2b1e-8a4d-4c4e-9d51-0a3f7e2b9c10", "a\x00b", "")
	f.Add("6f1c2b1e-8a4d-4c4e-9d51-0a3f7e2b9c10", "\xff", "\xfe")
	f.Add("", "", "")
	f.Fuzz(func(t *testing.T, id, title, desc string) {
		err := checkChannel(&dialogue.Channel{ID: id, Title: title, Description: desc, Peer: "node-b.example"})
		if err != nil {
			msg := err.Error()
			if !strings.HasPrefix(msg, "channel id: ") && !strings.HasPrefix(msg, "title: ") && !strings.HasPrefix(msg, "description: ") {
				t.Errorf("error %q names no field", msg)
			}
			return
		}
		if u, err := uuid.Parse(id); err != nil || u.String() != id {
			t.Errorf("accepted id %q, not a canonical UUID", id)
		}
		if !utf8.ValidString(title) || strings.IndexFunc(title, unicode.IsControl) >= 0 || strings.TrimSpace(title) == "" || len(title) > maxTitle {
			t.Errorf("accepted title %q", title)
		}
		if !utf8.ValidString(desc) || len(desc) > maxDescription {
			t.Errorf("accepted description %q", desc)
		}
	})
}
