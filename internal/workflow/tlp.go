package workflow

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/stix"
)

// TLP on the workflows' read paths (docs/design/tlp.md): the listings and
// shows take the reading user and leave out what the markings do not let
// that user see. The policy is dialogue.Visible; the marking of a stored
// object is read by a dialogue.TLPView of its channel.

// reportRecipients checks the recipients of a report marked m: required
// (at least one) for TLP:RED, refused for any other level.
func reportRecipients(m *stix.TLPMarking, recipients []string) ([]string, error) {
	const op = "workflow.FileReport"
	var out []string
	for _, r := range recipients {
		p, err := dialogue.ParseRecipient(r)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	switch {
	case m.Level == "red" && len(out) == 0:
		return nil, dialogue.Errorf(op, dialogue.KindInvalid, "recipient: required for a TLP:RED report: name the users (or role:ROLE) who may read it, on both nodes")
	case m.Level != "red" && len(out) > 0:
		return nil, dialogue.Errorf(op, dialogue.KindInvalid, "recipient: only a TLP:RED report names recipients (this one is TLP:%s, readable by every reader of the channel)", m.Level)
	}
	return out, nil
}

// TLPView returns the view of user u of a channel's collection. What the
// channel's reports say of the objects they hold (an unmarked object's
// marking, a RED object's recipients) comes from the channel's report
// fold (reportFold), kept while the store's stamp of its reports is
// unchanged, instead of each view reading every report; a collection
// that is not a channel's is read as NewTLPView reads it.
func (s *Service) TLPView(collectionID string, u *dialogue.User) *dialogue.TLPView {
	return dialogue.NewTLPViewOf(collectionID, u, stix.ReadTLP, func(ctx context.Context) (dialogue.ReportMarkings, error) {
		ch, other, err := s.Channel(ctx, collectionID)
		if err != nil || ch.ID != collectionID {
			return dialogue.ReadReportMarkings(ctx, s.Store, collectionID, stix.ReadTLP)
		}
		f, err := s.reportFoldOf(ctx, ch, other)
		if err != nil {
			return nil, err
		}
		return f.markings, nil
	})
}

// ReportsFor is Reports as user u sees them: only the reports whose
// marking lets u see them. (Collection grants are not checked here: the
// channel commands grant every user read access to a channel.) Each
// report's marking is kept in the channel's report fold.
func (s *Service) ReportsFor(ctx context.Context, u *dialogue.User, chID string) ([]*Report, error) {
	chs, err := s.channelsOrOne(ctx, chID)
	if err != nil {
		return nil, err
	}
	var out []*Report
	for _, ch := range chs {
		f, err := s.reportFold(ctx, ch)
		if err != nil {
			return nil, err
		}
		for i, r := range f.list {
			if dialogue.Visible(u, f.marks[i]) {
				c := *r
				out = append(out, &c)
			}
		}
	}
	return out, nil
}

// ReportFor is Report as user u sees it: KindNotFound, as for an unknown
// id, when u may not see the report; its objects without those u may not
// see (their ids stay in object_refs: they are in the report's own JSON).
func (s *Service) ReportFor(ctx context.Context, u *dialogue.User, id string) (*Report, error) {
	const op = "workflow.Report"
	r, err := s.Report(ctx, id)
	if err != nil {
		return nil, err
	}
	notFound := dialogue.Errorf(op, dialogue.KindNotFound, "no incident report %s: list them with 'parley report list'", id)
	v := s.TLPView(r.Channel, u)
	if vis, err := v.Visible(ctx, &dialogue.Object{ID: r.ID, Type: "report", Raw: r.Raw}); err != nil || !vis {
		if err != nil {
			return nil, err
		}
		return nil, notFound
	}
	var objs []*dialogue.Object
	for _, raw := range r.Objects {
		var p struct {
			ID string `json:"id"`
		}
		json.Unmarshal(raw, &p) // stored objects are valid JSON
		objs = append(objs, &dialogue.Object{ID: p.ID, Type: stix.IDType(p.ID), Raw: raw})
	}
	objs, err = v.Filter(ctx, objs)
	if err != nil {
		return nil, err
	}
	r.Objects = r.Objects[:0]
	for _, o := range objs {
		r.Objects = append(r.Objects, o.Raw)
	}
	return r, nil
}
