package workflow

import (
	"context"
	"encoding/json"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/stix"
)

// TLP on the workflows' read paths (docs/design/tlp.md): the listings and
// shows take the reading user and leave out what the markings do not let
// that user see. The policy is dialogue.Visible; the marking of a stored
// object is read by a dialogue.TLPView of its channel.

// TLPView returns the view of user u of a collection, through the gate:
// nothing when u may not read the collection, else what the markings let
// u see. What the channel's reports say of the objects they hold comes
// from the channel's report fold (reportMarkings).
func (s *Service) TLPView(collectionID string, u *dialogue.User) *dialogue.TLPView {
	return s.gate.View(dialogue.UserViewer(u), collectionID)
}

// view is the view of the service's viewer (As) of a collection, or, for
// a service used without a viewer (the operator's command line), of the
// operator.
func (s *Service) view(collectionID string) *dialogue.TLPView {
	v := dialogue.OperatorViewer()
	if s.viewer != nil {
		v = *s.viewer
	}
	return s.gate.View(v, collectionID)
}

// reportMarkings gives the gate what a collection's reports say of the
// objects they hold: from the channel's report fold, kept while the
// store's stamp of its reports is unchanged; for a collection that is not
// a channel's (local, or one made with 'parley collection'), read from
// its reports and kept the same way.
//
// It runs for every gated read that needs a report's marking, so it asks
// the store the least it can: the channel by id alone, its peer's party
// from the fold cache's (peerParty), and the fold's stamp.
func (s *Service) reportMarkings(ctx context.Context, collectionID string) (dialogue.ReportMarkings, error) {
	ch, other, ok := s.collectionChannel(ctx, collectionID)
	if !ok {
		v, err := s.cachedFold(ctx, "report-markings", &dialogue.Channel{ID: collectionID}, dialogue.Party{}, []string{"report"}, func() (any, error) {
			return dialogue.ReadReportMarkings(ctx, s.Store, collectionID, stix.ReadTLP, stix.IsIncidentReport)
		})
		if err != nil {
			return nil, err
		}
		return v.(dialogue.ReportMarkings), nil
	}
	f, err := s.reportFoldOf(ctx, ch, other)
	if err != nil {
		return nil, err
	}
	return f.markings, nil
}

// collectionChannel returns the channel whose collection is collectionID,
// with its other party, as Channel (without a viewer) finds it by that
// id; false when there is none, it has no collection, or either lookup
// fails: the collection is then read as one that is no channel's.
func (s *Service) collectionChannel(ctx context.Context, collectionID string) (*dialogue.Channel, dialogue.Party, bool) {
	ch, err := s.Store.ChannelByID(ctx, collectionID)
	if err != nil || !ch.HasCollection() {
		return nil, dialogue.Party{}, false
	}
	other, err := s.peerParty(ctx, ch.Peer)
	if err != nil {
		return nil, dialogue.Party{}, false
	}
	return ch, other, true
}

// ReportsFor is Reports as user u sees it (As): only the reports of the
// channels u may read whose marking lets u see them.
func (s *Service) ReportsFor(ctx context.Context, u *dialogue.User, chID string) ([]*Report, error) {
	return s.As(dialogue.UserViewer(u)).Reports(ctx, chID)
}

// ReportFor is Report as user u sees it (As): KindNotFound, as for an
// unknown id, when u may not see the report; its objects without those u
// may not see (their ids stay in object_refs: they are in the report's
// own JSON).
func (s *Service) ReportFor(ctx context.Context, u *dialogue.User, id string) (*Report, error) {
	return s.As(dialogue.UserViewer(u)).Report(ctx, id)
}

// visibleReport applies the viewer's view to a report found by Report:
// KindNotFound when the viewer may not see it, else the report without
// the objects the viewer may not see.
func (s *Service) visibleReport(ctx context.Context, r *Report) (*Report, error) {
	const op = "workflow.Report"
	v := s.view(r.Channel)
	if vis, err := v.Visible(ctx, &dialogue.Object{ID: r.ID, Type: "report", Raw: r.Raw}); err != nil || !vis {
		if err != nil {
			return nil, err
		}
		return nil, dialogue.Errorf(op, dialogue.KindNotFound, "no incident report %s: list them with 'parley report list'", r.ID)
	}
	var objs []*dialogue.Object
	for _, raw := range r.Objects {
		var p struct {
			ID string `json:"id"`
		}
		json.Unmarshal(raw, &p) // stored objects are valid JSON
		objs = append(objs, &dialogue.Object{ID: p.ID, Type: stix.IDType(p.ID), Raw: raw})
	}
	objs, err := v.Filter(ctx, objs)
	if err != nil {
		return nil, err
	}
	r.Objects = r.Objects[:0]
	for _, o := range objs {
		r.Objects = append(r.Objects, o.Raw)
	}
	return r, nil
}
