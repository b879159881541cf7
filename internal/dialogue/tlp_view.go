package dialogue

import (
	"context"
	"slices"
)

// TLPReader reads what an object's JSON says about TLP: the level of its
// TLP marking ("clear" … "red", "" when unmarked), the RED recipients it
// names and, for a report, its object_refs. stix.ReadTLP is the one; it is
// passed in so that this package stays free of STIX parsing.
type TLPReader func(raw []byte) (level string, recipients, reportRefs []string)

// ObjectFinder is the part of a Store a TLPView reads.
type ObjectFinder interface {
	FindObjects(ctx context.Context, collectionID string, f ObjectFilter) (*ObjectPage, error)
}

// ParseTLPLevel returns the level of a TLP 2.0 name ("clear" … "red",
// "white" for TLP 1.0); false for anything else.
func ParseTLPLevel(s string) (TLPLevel, bool) {
	if s == "white" {
		return TLPClear, true
	}
	for l := TLPClear; l <= TLPRed; l++ {
		if tlpNames[l] == s {
			return l, true
		}
	}
	return 0, false
}

// TLPView is a viewer's view of one collection, made by the gate
// (Gate.View; docs/design/tlp.md): nothing when the viewer may not read the
// collection, else each object by its marking:
//
//   - an object's marking is its own TLP marking;
//   - an unmarked object takes the marking of the report it was filed
//     with (ReportOrder: the first incident report that held it, else the
//     first other report); an unmarked object no report holds is CLEAR;
//   - a RED object that names no recipients takes those of that report,
//     when it is RED (else no one's).
//
// The reports are read once, on the first object that needs them. A view
// is for one request: it does not see reports added after that.
type TLPView struct {
	store        ObjectFinder
	collectionID string
	viewer       Viewer
	read         TLPReader
	// mark, when set, reads an object's own marking in place of read
	// (Gate.ReadMarking).
	mark func(raw []byte) (level string, recipients []string)
	// own is the gate's cache of what stored versions say of TLP (nil:
	// every object is read).
	own *ownCache
	// incident says which reports are incident reports (Gate.Incident).
	incident func(raw []byte) bool
	// gate decides whether the viewer may read the collection at all, on
	// the first decision; denied is its answer.
	gate    *Gate
	checked bool
	denied  bool

	// load gives the collection's ReportMarkings (Gate.Markings); nil:
	// the view reads the reports itself.
	load    func(context.Context) (ReportMarkings, error)
	reports ReportMarkings // object id → marking from the reports holding it
}

// Readable reports whether the view's viewer may read the collection at
// all; when not, it sees nothing in it.
func (v *TLPView) Readable(ctx context.Context) (bool, error) {
	if !v.checked {
		acc, err := v.gate.Access(ctx, v.viewer, v.collectionID)
		if err != nil {
			return false, err
		}
		v.checked, v.denied = true, !acc.Read
	}
	return !v.denied && !v.viewer.IsZero(), nil
}

// Viewer is who the view is for.
func (v *TLPView) Viewer() Viewer { return v.viewer }

// ReportMarkings is what the reports of a collection say of the objects
// they hold (object_refs): by object id, the marking of the first report
// that held it, incident reports before the others (ReportOrder; an
// unmarked report counts as CLEAR). A TLPView reads it for
// the objects whose own marking is not enough (MarkingIn).
//
// Only the first report counts, so that no later report — anyone's — can
// widen who sees an object: naming another's RED incident in one's own
// report, with oneself as recipient, gives no access to it.
type ReportMarkings map[string]Marking

// Add adds what one report's JSON says (read by read). Reports must be
// added in the order they arrived in the collection (the DateAdded of
// their first version; ReportOrder), each with its latest version: an
// object keeps the marking of the first report that holds it.
func (rm ReportMarkings) Add(raw []byte, read TLPReader) {
	level, recipients, refs := read(raw)
	m := Marking{Level: TLPClear}
	if level != "" {
		l, ok := ParseTLPLevel(level)
		if !ok {
			l = TLPRed
		}
		m = Marking{Level: l, Recipients: recipients}
	}
	for _, id := range refs {
		if _, ok := rm[id]; !ok {
			rm[id] = m
		}
	}
}

// ReportOrder collects the versions of a collection's reports, as a
// listing of every version in ascending DateAdded gives them, into the
// order ReportMarkings.Add wants: each report once, with its latest
// version; the incident reports (Parley's, filed with the objects they
// hold) first, in the order their first versions arrived, then the other
// reports in that order. So an object takes the marking of the incident
// report it was filed with — not of a report its bundle carried, nor of
// any report that named it later.
type ReportOrder struct {
	order    []string
	latest   map[string]*Object
	incident map[string]bool
}

// Put takes one report version; incident says whether it is an incident
// report (one that carries Parley's property-extension).
func (ro *ReportOrder) Put(o *Object, incident bool) {
	if ro.latest == nil {
		ro.latest, ro.incident = map[string]*Object{}, map[string]bool{}
	}
	prev, ok := ro.latest[o.ID]
	if !ok {
		ro.order = append(ro.order, o.ID)
	}
	if !ok || !o.Version().Before(prev.Version()) {
		ro.latest[o.ID] = o
		ro.incident[o.ID] = incident
	}
}

// Reports returns the latest version of each report: the incident reports
// first, then the others, each group in the order its first versions
// arrived.
func (ro *ReportOrder) Reports() []*Object {
	out := make([]*Object, 0, len(ro.order))
	for _, first := range []bool{true, false} {
		for _, id := range ro.order {
			if ro.incident[id] == first {
				out = append(out, ro.latest[id])
			}
		}
	}
	return out
}

// ReadReportMarkings reads the ReportMarkings of a collection from its
// reports (every version is listed to know where each report arrived);
// incident says which are incident reports (nil: none).
func ReadReportMarkings(ctx context.Context, st ObjectFinder, collectionID string, read TLPReader, incident func(raw []byte) bool) (ReportMarkings, error) {
	var ro ReportOrder
	f := ObjectFilter{Types: []string{"report"}, Versions: VersionMatch{All: true}}
	for {
		page, err := st.FindObjects(ctx, collectionID, f)
		if err != nil {
			return nil, E("dialogue.TLPView", KindOther, err)
		}
		for _, r := range page.Objects {
			ro.Put(r, incident != nil && incident(r.Raw))
		}
		if !page.More {
			break
		}
		f.After = page.Next
	}
	reports := ReportMarkings{}
	for _, r := range ro.Reports() {
		reports.Add(r.Raw, read)
	}
	return reports, nil
}

// NeedsReports reports whether the marking of an object whose JSON says
// level and recipients (a TLPReader's answer) depends on the reports
// holding it: unmarked, or RED naming no one.
func NeedsReports(level string, recipients []string) bool {
	if level == "" {
		return true
	}
	l, ok := ParseTLPLevel(level)
	return (!ok || l == TLPRed) && len(recipients) == 0
}

// MarkingIn is the marking of object id whose JSON says level and
// recipients, in a collection whose reports say reports (needed only
// when NeedsReports): its own TLP marking; an unmarked object takes the
// marking of the first report that held it (CLEAR when none does); a RED
// one naming no recipients takes those of that report when it is RED. The
// recipients are the caller's to change.
func MarkingIn(id, level string, recipients []string, reports ReportMarkings) Marking {
	if level == "" {
		if m, ok := reports[id]; ok {
			m.Recipients = slices.Clone(m.Recipients)
			return m
		}
		return Marking{Level: TLPClear}
	}
	l, ok := ParseTLPLevel(level)
	if !ok {
		l = TLPRed
	}
	if l == TLPRed && len(recipients) == 0 {
		if m, ok := reports[id]; ok && m.Level == TLPRed {
			recipients = slices.Clone(m.Recipients)
		}
	}
	return Marking{Level: l, Recipients: recipients}
}

// Marking returns the marking that applies to a stored object version
// (which must carry its Raw).
func (v *TLPView) Marking(ctx context.Context, o *Object) (Marking, error) {
	level, recipients := v.ownMarking(o)
	if NeedsReports(level, recipients) {
		if err := v.loadReports(ctx); err != nil {
			return Marking{}, err
		}
	}
	return MarkingIn(o.ID, level, recipients, v.reports), nil
}

// ownMarking reads what an object version's JSON says of TLP: as the
// store kept it when it added the version, else from the gate's cache when
// the version was read before, else from the JSON.
func (v *TLPView) ownMarking(o *Object) (string, []string) {
	if v.mark != nil && o.TLPKnown {
		// The store kept ReadMarking's answer when it added the version
		// (a RED one naming recipients it does not keep).
		return o.TLP, nil
	}
	var k ownKey
	cache := v.own != nil && !o.DateAdded.IsZero() && len(o.Raw) > 0
	if cache {
		k = ownKey{collection: v.collectionID, id: o.ID, version: o.Version().UnixNano(), added: o.DateAdded.UnixNano()}
		if m, ok := v.own.get(k); ok {
			return m.level, slices.Clone(m.recipients)
		}
	}
	var (
		level      string
		recipients []string
	)
	if v.mark != nil {
		level, recipients = v.mark(o.Raw)
	} else {
		level, recipients, _ = v.read(o.Raw)
	}
	if cache {
		v.own.put(k, ownMarking{level: level, recipients: slices.Clone(recipients)})
	}
	return level, recipients
}

// Visible reports whether the view's viewer may see the object version.
func (v *TLPView) Visible(ctx context.Context, o *Object) (bool, error) {
	if ok, err := v.Readable(ctx); !ok || err != nil {
		return false, err
	}
	m, err := v.Marking(ctx, o)
	if err != nil {
		return false, err
	}
	return VisibleTo(v.viewer, m), nil
}

// Allows reports whether the view's viewer may see an object marked m
// (a marking the caller read through this view or a fold of it).
func (v *TLPView) Allows(ctx context.Context, m Marking) (bool, error) {
	if ok, err := v.Readable(ctx); !ok || err != nil {
		return false, err
	}
	return VisibleTo(v.viewer, m), nil
}

// Filter returns the objects of objs the user may see, in their order.
// The objects must carry their Raw.
func (v *TLPView) Filter(ctx context.Context, objs []*Object) ([]*Object, error) {
	out := objs[:0:0]
	for _, o := range objs {
		ok, err := v.Visible(ctx, o)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, o)
		}
	}
	return out, nil
}

func (v *TLPView) loadReports(ctx context.Context) error {
	if v.reports != nil {
		return nil
	}
	var (
		reports ReportMarkings
		err     error
	)
	if v.load != nil {
		reports, err = v.load(ctx)
	} else {
		reports, err = ReadReportMarkings(ctx, v.store, v.collectionID, v.read, v.incident)
	}
	if err != nil {
		return err
	}
	if reports == nil {
		reports = ReportMarkings{}
	}
	v.reports = reports
	return nil
}
