package webui

// The incident report pages: the reports of this
// node's channels, one report with its indicators (their territory and
// autonomous system, from the node's enrichment records), its objects,
// its evidence with hashes and download, and the form to file a new one.
//
// What a user sees goes through the workflow's TLP 2.0 reads
// (ReportsFor, ReportFor): a report the user may not see is "page not
// found", as an unknown one is, and so is its evidence. Filing goes
// through Workflow.FileReportFiling, as the CLI and the JSON API do, under
// the workflow's filing rules (the incident and an indicator per line are
// made there); the form adds only a file object per evidence file, and
// shows each refused field's reason, translated, beside it.

import (
	"context"
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/parleyhq/parley/internal/blob"
	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/enrich"
	"github.com/parleyhq/parley/internal/httpapi"
	"github.com/parleyhq/parley/internal/match"
	"github.com/parleyhq/parley/internal/stix"
	"github.com/parleyhq/parley/internal/workflow"
)

func init() {
	routes = append(routes, func(u *UI, m *routeMux) {
		m.HandleFunc("GET /reports", u.signedIn(u.reportsPage))
		m.HandleFunc("GET /reports/new", u.signedIn(u.newReportPage))
		m.HandleFunc("POST /reports", u.fileReportUpload)
		m.HandleFunc("GET /reports/{id}", u.signedIn(u.reportPage))
		m.HandleFunc("GET /reports/{id}/evidence/{sha256}", u.signedIn(u.evidence))
	})
	funcs["tlpBadge"] = tlpBadge
	funcs["upperTLP"] = strings.ToUpper
	funcs["severities"] = func() []int { return []int{1, 2, 3, 4, 5} }
	addRU(reportRU)
}

// ReportPageSize is how many incident reports the reports page shows on
// one page.
const ReportPageSize = 100

// Limits of the report form's body: maxField bounds the bytes of one text
// field read into memory, maxFields the number of text fields. (The
// limits of the fields' contents are the workflow's filing rules.)
const (
	maxField  = 1 << 20
	maxFields = 200
)

// tlpLevels are the TLP 2.0 levels, from the least restrictive.
var tlpLevels = []string{"clear", "green", "amber", "amber+strict", "red"}

// tlpBadge is a report's TLP 2.0 marking as a labelled badge: the label
// says the level, the class gives it the level's colour.
func tlpBadge(level string) template.HTML {
	if !slices.Contains(tlpLevels, level) {
		level = "unknown"
	}
	class := strings.ReplaceAll(level, "+", "-")
	return template.HTML(`<span class="tlp tlp-` + class + `">TLP:` + template.HTMLEscapeString(strings.ToUpper(level)) + `</span>`)
}

// severityNames are the words of the severity scale (1 … 5).
var severityNames = [...]string{1: "low", 2: "moderate", 3: "significant", 4: "high", 5: "critical"}

// SeverityText is a report's severity as its number and word: "4 · high".
func (p *page) SeverityText(n int) string {
	if n < 1 || n >= len(severityNames) {
		return strconv.Itoa(n)
	}
	return strconv.Itoa(n) + " · " + p.word(severityRU, severityNames[n])
}

// SectorName is a sector's name (its code when unknown).
func (p *page) SectorName(code string) string {
	s, err := dialogue.ParseSector(code)
	if err != nil {
		return code
	}
	return p.word(sectorRU, s.Name())
}

// ---- the list

type reportsData struct {
	Reports []*workflow.Report
	// Page is the page shown (from 1); Prev and Next its neighbours (0:
	// none); Total the reports the user may see in all.
	Page, Prev, Next, Total int
}

// sortReports sorts reports newest first.
func sortReports(rs []*workflow.Report) {
	slices.SortStableFunc(rs, func(a, b *workflow.Report) int {
		if c := b.Created.Compare(a.Created); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
}

// pageReports cuts page n (from 1) of reports sorted newest first.
func pageReports(rs []*workflow.Report, n int) *reportsData {
	last := max(1, (len(rs)+ReportPageSize-1)/ReportPageSize)
	n = min(max(n, 1), last)
	d := &reportsData{Page: n, Total: len(rs), Reports: rs[min((n-1)*ReportPageSize, len(rs)):min(n*ReportPageSize, len(rs))]}
	if n > 1 {
		d.Prev = n - 1
	}
	if n < last {
		d.Next = n + 1
	}
	return d
}

func (u *UI) reportsPage(w http.ResponseWriter, r *http.Request) {
	rs, err := u.visibleReports(r.Context(), sessionFrom(r.Context()).u)
	if err != nil {
		u.internal(w, r, err)
		return
	}
	n, _ := strconv.Atoi(r.URL.Query().Get("page")) // a bad number: the first page
	p := u.newPage(r, "Incident reports")
	p.Data = pageReports(rs, n)
	u.render(w, "reports", http.StatusOK, p)
}

// visibleReports is Workflow.ReportsFor(usr, "") newest first. The
// workflow keeps each channel's reports, with their TLP markings, while
// the store's stamp of them is unchanged.
func (u *UI) visibleReports(ctx context.Context, usr *dialogue.User) ([]*workflow.Report, error) {
	rs, err := u.wf(ctx).ReportsFor(ctx, usr, "")
	if err != nil {
		return nil, err
	}
	sortReports(rs)
	return rs, nil
}

// ---- one report

type reportView struct {
	R            *workflow.Report
	ChannelTitle string
	Description  string
	Indicators   []*indicatorView
	Evidence     []*evidenceView
	Related      []relatedView
	Requests     []*workflow.Request
	// Hidden is the number of the report's objects not shown: not
	// received yet, or marked above what the user may see.
	Hidden int
	// Enrichment says whether this node keeps enrichment records.
	Enrichment bool
}

// indicatorView is an indicator with the values its pattern names and
// what the node's GeoIP databases say of its addresses.
type indicatorView struct {
	ID, Name, Pattern string
	// Values are the addresses, networks, domains, URLs and hashes the
	// pattern looks for (none for a pattern that is not a list of values).
	Values []string
	// Addresses come from the indicator's enrichment record.
	Addresses []enrich.Address
	Truncated bool
}

// evidenceView is an artifact or file of the report that names a blob by
// its SHA-256.
type evidenceView struct {
	Type, Name, MediaType, SHA256 string
	Size                          int64
	// Kept says the node holds the bytes (an evidence file of the other
	// party arrives after the report).
	Kept bool
}

type relatedView struct{ Type, Name, ID string }

// object is what the report page reads of a STIX object.
type object struct {
	Type        string            `json:"type"`
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Description string            `json:"description"`
	Pattern     string            `json:"pattern"`
	PatternType string            `json:"pattern_type"`
	MimeType    string            `json:"mime_type"`
	Size        *int64            `json:"size"`
	Hashes      map[string]string `json:"hashes"`
	Value       string            `json:"value"`
}

// sha256Of is the SHA-256 an object's hashes give (any spelling of the
// key), lower case; "" when none.
func (o *object) sha256Of() string { return stix.SHA256Of(o.Hashes) }

// reportFor is the report as the signed-in user may see it, with the
// objects the user may see (Workflow.ReportFor); ok is false (and the
// answer sent: page not found) when the user may not see it, or there is
// none.
func (u *UI) reportFor(w http.ResponseWriter, r *http.Request) (*workflow.Report, bool) {
	ctx := r.Context()
	rep, err := u.wf(ctx).ReportFor(ctx, sessionFrom(ctx).u, r.PathValue("id"))
	switch k := dialogue.KindOf(err); {
	case err == nil:
		return rep, true
	case k == dialogue.KindNotFound || k == dialogue.KindInvalid:
		u.notFound(w, r) // unknown, not a report id, or not for this user: the same answer
	default:
		u.internal(w, r, err)
	}
	return nil, false
}

func (u *UI) reportPage(w http.ResponseWriter, r *http.Request) {
	rep, ok := u.reportFor(w, r)
	if !ok {
		return
	}
	v, err := u.reportView(r.Context(), rep)
	if err != nil {
		u.internal(w, r, err)
		return
	}
	p := u.newPage(r, "Incident report")
	p.Title = rep.Name
	p.Data = v
	u.render(w, "report", http.StatusOK, p)
}

func (u *UI) reportView(ctx context.Context, rep *workflow.Report) (*reportView, error) {
	v := &reportView{R: rep}
	ch, _, err := u.wf(ctx).Channel(ctx, rep.Channel)
	if err != nil {
		return nil, err
	}
	v.ChannelTitle = ch.Title
	var self object
	_ = json.Unmarshal(rep.Raw, &self) // a stored object is valid JSON
	v.Description = self.Description
	recs, _ := u.cfg.Workflow.Store.(dialogue.EnrichmentStore)
	v.Enrichment = recs != nil
	shown := map[string]bool{}
	for _, raw := range rep.Objects {
		var o object
		if json.Unmarshal(raw, &o) != nil {
			continue
		}
		shown[o.ID] = true
		switch {
		case o.Type == "indicator":
			iv, err := u.indicatorView(ctx, recs, rep.Channel, &o, raw)
			if err != nil {
				return nil, err
			}
			v.Indicators = append(v.Indicators, iv)
		case (o.Type == "artifact" || o.Type == "file") && o.sha256Of() != "":
			v.Evidence = append(v.Evidence, u.evidenceView(&o))
		default:
			if o.Type == "incident" && v.Description == "" {
				v.Description = o.Description
			}
			name := o.Name
			if name == "" {
				name = o.Value
			}
			v.Related = append(v.Related, relatedView{Type: o.Type, Name: name, ID: o.ID})
		}
	}
	for _, id := range rep.ObjectRefs {
		if _, tlp := stix.TLP(id); !tlp && !shown[id] {
			v.Hidden++
		}
	}
	rs, err := u.wf(ctx).Requests(ctx, workflow.RequestFilter{Channel: rep.Channel})
	if err != nil {
		return nil, err
	}
	for _, q := range rs {
		if slices.Contains(q.About, rep.ID) {
			v.Requests = append(v.Requests, q)
		}
	}
	return v, nil
}

// indicatorView reads an indicator: the values of its pattern, and its
// enrichment record (the record of the version shown, as the workflow's
// origin figures read it).
func (u *UI) indicatorView(ctx context.Context, recs dialogue.EnrichmentStore, chID string, o *object, raw json.RawMessage) (*indicatorView, error) {
	iv := &indicatorView{ID: o.ID, Name: o.Name, Pattern: o.Pattern}
	if o.PatternType == "stix" {
		if terms, err := match.Terms(o.Pattern); err == nil {
			for _, t := range terms {
				switch {
				case t.Net.IsValid() && t.Net.IsSingleIP():
					iv.Values = append(iv.Values, t.Net.Addr().String())
				case t.Net.IsValid():
					iv.Values = append(iv.Values, t.Net.String())
				case t.Suffix:
					iv.Values = append(iv.Values, "*"+t.Value)
				default:
					iv.Values = append(iv.Values, t.Value)
				}
			}
		}
	}
	if recs == nil {
		return iv, nil
	}
	so, _, err := stix.Parse(raw)
	if err != nil {
		return iv, nil // stored, so valid; a version this code cannot read has no record to show
	}
	version := so.Modified
	if version.IsZero() {
		version = so.Created
	}
	e, err := recs.Enrichment(ctx, chID, o.ID, version)
	switch {
	case dialogue.KindOf(err) == dialogue.KindNotFound:
		return iv, nil
	case err != nil:
		return nil, err
	case e.Record == nil:
		return iv, nil
	}
	if rec, err := enrich.ParseRecord(e.Record); err == nil {
		iv.Addresses, iv.Truncated = rec.Addresses, rec.Truncated
	}
	return iv, nil
}

func (u *UI) evidenceView(o *object) *evidenceView {
	ev := &evidenceView{Type: o.Type, Name: o.Name, MediaType: o.MimeType, SHA256: o.sha256Of(), Size: -1}
	if o.Size != nil {
		ev.Size = *o.Size
	}
	if u.cfg.Blobs != nil {
		sum, _ := blob.ParseSum(ev.SHA256)
		if info, err := u.cfg.Blobs.Stat(sum); err == nil {
			ev.Kept = true
			ev.Size = info.Size
		}
	}
	return ev
}

// ASText is an address's autonomous system: "AS64496 (Demo network)".
func (p *page) ASText(a enrich.Address) string {
	if a.ASN == nil {
		return p.T("unknown")
	}
	s := "AS" + strconv.FormatUint(uint64(*a.ASN), 10)
	if a.ASOrg != nil {
		s += " (" + *a.ASOrg + ")"
	}
	if a.MixedAS {
		s += " " + p.T("(and others in the network)")
	}
	return s
}

// TerritoryText is an address's territory (its country, else its
// registered country).
func (p *page) TerritoryText(a enrich.Address) string {
	c := a.Country
	if c == nil {
		c = a.RegisteredCountry
	}
	if c == nil {
		return p.T("unknown")
	}
	if a.MixedCountry {
		return *c + " " + p.T("(and others in the network)")
	}
	return *c
}

// SizeText is a size in bytes, for people.
func (p *page) SizeText(n int64) string {
	switch {
	case n < 0:
		return "—"
	case n < 1<<10:
		return p.T("%d bytes", n)
	case n < 1<<20:
		return p.T("%.1f KiB", float64(n)/(1<<10))
	case n < 1<<30:
		return p.T("%.1f MiB", float64(n)/(1<<20))
	}
	return p.T("%.1f GiB", float64(n)/(1<<30))
}

// evidence sends the bytes of an evidence file of a report the user may
// see, as an attachment; anything else is page not found.
func (u *UI) evidence(w http.ResponseWriter, r *http.Request) {
	rep, ok := u.reportFor(w, r)
	if !ok {
		return
	}
	want := r.PathValue("sha256")
	sum, err := blob.ParseSum(want)
	if err != nil || u.cfg.Blobs == nil {
		u.notFound(w, r)
		return
	}
	var ev *evidenceView
	for _, raw := range rep.Objects {
		var o object
		if json.Unmarshal(raw, &o) == nil && (o.Type == "artifact" || o.Type == "file") && o.sha256Of() == blob.Hex(sum) {
			ev = u.evidenceView(&o)
			break
		}
	}
	if ev == nil {
		u.notFound(w, r)
		return
	}
	// The report shows the file object; the gate decides whether its
	// bytes are the user's to read (the object it was filed with).
	if err := u.wf(r.Context()).CheckEvidence(r.Context(), rep.Channel, blob.Hex(sum)); err != nil {
		if dialogue.KindOf(err) == dialogue.KindNotFound {
			u.notFound(w, r)
		} else {
			u.internal(w, r, err)
		}
		return
	}
	f, err := u.cfg.Blobs.Open(sum)
	if dialogue.KindOf(err) == dialogue.KindNotFound {
		u.notFound(w, r)
		return
	}
	if err != nil {
		u.internal(w, r, err)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		u.internal(w, r, err)
		return
	}
	name := ev.Name
	if name == "" {
		name = "evidence-" + blob.Hex(sum)[:16] + ".bin"
	}
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	h.Set("ETag", blob.ETag(sum))
	http.ServeContent(w, r, "", fi.ModTime(), f)
}

// ---- the form

// reportInput is what the form sends, as typed.
type reportInput struct {
	Channel, Title, Description, Indicators, TLP, Recipients, Severity string
	Sectors                                                            []string
}

func reportInputOf(f url.Values) reportInput {
	return reportInput{
		Channel: strings.TrimSpace(f.Get("channel")), Title: strings.TrimSpace(f.Get("title")),
		Description: strings.TrimSpace(f.Get("description")), Indicators: f.Get("indicators"),
		TLP: strings.TrimSpace(f.Get("tlp")), Recipients: strings.TrimSpace(f.Get("recipients")),
		Severity: strings.TrimSpace(f.Get("severity")), Sectors: f["sectors"],
	}
}

// reportForm is what the form's template sees.
type reportForm struct {
	Channels []*dialogue.Channel
	Sectors  []dialogue.Sector
	Levels   []string
	In       reportInput
	// Errors holds the refusal of each field, by its name.
	Errors map[string]string
	// Evidence says whether files can be attached (the node has a blob
	// store); MaxEvidence is the limit of one file.
	Evidence    bool
	MaxEvidence int64
}

// Checked says whether the sector is ticked.
func (f *reportForm) Checked(code string) bool { return slices.Contains(f.In.Sectors, code) }

func (u *UI) reportForm(ctx context.Context, in reportInput) (*reportForm, error) {
	chs, err := u.wf(ctx).Channels(ctx)
	if err != nil {
		return nil, err
	}
	f := &reportForm{Sectors: dialogue.Sectors, Levels: tlpLevels, In: in, Errors: map[string]string{}, Evidence: u.cfg.Blobs != nil}
	for _, ch := range chs {
		if ch.State == dialogue.ChannelActive {
			f.Channels = append(f.Channels, ch)
		}
	}
	if u.cfg.Blobs != nil {
		f.MaxEvidence = u.cfg.Blobs.MaxSize
	}
	return f, nil
}

func (u *UI) newReportPage(w http.ResponseWriter, r *http.Request) {
	p := u.newPage(r, "New incident report")
	in := reportInput{TLP: "amber", Severity: strconv.Itoa(workflow.SeveritySignificant)}
	f, err := u.reportForm(r.Context(), in)
	if err != nil {
		u.internal(w, r, err)
		return
	}
	if len(f.Channels) == 1 {
		f.In.Channel = f.Channels[0].ID
	}
	status := http.StatusOK
	if !p.CanWrite {
		p.Error = p.T("Your role may only read; filing a report needs the role duty, expert or admin.")
		status = http.StatusForbidden
	}
	p.Data = f
	u.render(w, "report_new", status, p)
}

// uploadKey is the context key of a multipart filing's rest.
type uploadKey struct{}

// upload is the rest of a multipart filing: its reader, at the first
// file part (next; nil when there is none).
type upload struct {
	mr   *multipart.Reader
	next *multipart.Part
}

// fileReportUpload reads a multipart filing's text fields (the form puts
// its files last), so that the CSRF check of signedIn and the checks of
// the fields come before any file is read; fileReport then streams the
// files into the blob store. A filing without files (urlencoded) goes
// straight to signedIn.
func (u *UI) fileReportUpload(w http.ResponseWriter, r *http.Request) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if _, s := u.session(r); mt != "multipart/form-data" || s == nil {
		u.signedIn(u.fileReport)(w, r)
		return
	}
	// ServeHTTP capped the body at MaxBodyBytes: the files' limit and
	// uploadForm.
	mr, err := r.MultipartReader()
	if err != nil {
		u.badForm(w, r, err)
		return
	}
	vals := url.Values{}
	up := &upload{mr: mr}
	for n := 0; ; n++ {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			u.badForm(w, r, err)
			return
		}
		if part.FormName() == "evidence" || part.FileName() != "" {
			up.next = part
			break
		}
		b, err := io.ReadAll(io.LimitReader(part, maxField+1))
		if err == nil && (len(b) > maxField || n >= maxFields) {
			err = dialogue.Errorf("webui.fileReport", dialogue.KindTooLarge, "field %s: over %d bytes, or over %d fields", part.FormName(), maxField, maxFields)
		}
		if err != nil {
			u.badForm(w, r, err)
			return
		}
		vals.Add(part.FormName(), string(b))
	}
	r.PostForm, r.Form = vals, vals
	u.signedIn(u.fileReport)(w, r.WithContext(context.WithValue(r.Context(), uploadKey{}, up)))
}

// badForm answers a filing whose body could not be read, or was over
// the limit.
func (u *UI) badForm(w http.ResponseWriter, r *http.Request, err error) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		u.tooLarge(w, r, mbe.Limit)
		return
	}
	u.log.Info("webui: a report filing could not be read", "err", err)
	p := u.newPage(r, "New incident report")
	p.Error = p.T("The form could not be read: %s", dialogue.Message(err))
	u.render(w, "error", http.StatusBadRequest, p)
}

func (u *UI) fileReport(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	s := sessionFrom(ctx)
	up, _ := ctx.Value(uploadKey{}).(*upload)
	// What a refusal leaves unread is read to its end (bounded by the
	// limit of the body), so that the browser sees the answer.
	defer func() { _, _ = io.Copy(io.Discard, r.Body) }()
	p := u.newPage(r, "New incident report")
	in := reportInputOf(r.PostForm)
	f, err := u.reportForm(ctx, in)
	if err != nil {
		u.internal(w, r, err)
		return
	}
	p.Data = f
	if !s.u.Role.CanWrite() {
		p.Error = p.T("Your role may only read; filing a report needs the role duty, expert or admin.")
		u.render(w, "report_new", http.StatusForbidden, p)
		return
	}
	filing, sevErr := reportFilingOf(in)
	if refused := checkReport(ctx, u.wf(ctx), filing, sevErr); len(refused) > 0 {
		f.setErrors(p.locale, refused)
		p.Error = p.T("The report was not filed: correct the fields marked below.")
		if up != nil && up.next != nil {
			f.Errors["evidence"] = p.T("Choose the files again: a refused form does not keep them.")
		}
		u.render(w, "report_new", http.StatusBadRequest, p)
		return
	}
	files, err := u.putEvidence(ctx, up)
	if err != nil {
		switch dialogue.KindOf(err) {
		case dialogue.KindTooLarge:
			f.Errors["evidence"] = p.T("A file is over the limit of %s.", p.SizeText(f.MaxEvidence))
		case dialogue.KindInvalid:
			f.Errors["evidence"] = p.T("The files could not be read: %s", dialogue.Message(err))
		default:
			u.internal(w, r, err)
			return
		}
		p.Error = p.T("The report was not filed: correct the fields marked below.")
		u.render(w, "report_new", httpapi.StatusOf(err), p)
		return
	}
	// The files' bytes are in the blob store now; the report, its file
	// objects and the files' log entries are filed in one transaction
	// (FileReportFiling). When the filing fails, the bytes stay in the
	// blob store named by no object and no entry: harmless garbage,
	// served to no one (a user needs a file object naming the hash,
	// Gate.CheckEvidence; a peer an entry of its channel's log), and
	// found again when the same file is filed. No garbage collection of
	// unreferenced blobs exists yet: they stay until removed by hand.
	filing.Evidence = files
	id, err := u.wf(ctx).FileReportFiling(ctx, filing)
	if err != nil {
		switch refused := dialogue.FieldErrorsOf(err); {
		case refused != nil:
			f.setErrors(p.locale, refused)
			p.Error = p.T("The report was not filed: correct the fields marked below.")
		case dialogue.KindOf(err) == dialogue.KindOther:
			u.internal(w, r, err)
			return
		default:
			p.Error = p.T("The report was not filed: %s", dialogue.Message(err))
		}
		u.render(w, "report_new", httpapi.StatusOf(err), p)
		return
	}
	u.log.Info("webui: incident report filed", "user", s.u.Name, "report", id, "evidence", len(files))
	http.Redirect(w, r, "/reports/"+id, http.StatusSeeOther)
}

// putEvidence streams the upload's files into the blob store; a part
// with no file (the field left empty) is skipped.
func (u *UI) putEvidence(ctx context.Context, up *upload) ([]workflow.Evidence, error) {
	const op = "webui.putEvidence"
	if up == nil {
		return nil, nil
	}
	var out []workflow.Evidence
	for part := up.next; part != nil; {
		if part.FormName() == "evidence" && part.FileName() != "" {
			if u.cfg.Blobs == nil {
				return nil, dialogue.Errorf(op, dialogue.KindInvalid, "this node keeps no evidence files")
			}
			sum, size, err := u.cfg.Blobs.Put(ctx, part)
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				err = dialogue.Errorf(op, dialogue.KindTooLarge, "the upload is over the limit of %d bytes", mbe.Limit)
			}
			if err != nil {
				return nil, err
			}
			if size > 0 {
				out = append(out, workflow.Evidence{Name: cleanFileName(part.FileName()), MediaType: mediaType(part.Header.Get("Content-Type")), SHA256: sum, Size: size})
			}
		}
		next, err := up.mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, dialogue.Errorf(op, dialogue.KindTooLarge, "the upload is over the limit of %d bytes", mbe.Limit)
			}
			return nil, dialogue.E(op, dialogue.KindInvalid, err)
		}
		part = next
	}
	return out, nil
}

// cleanFileName keeps the last element of a file name a browser sends,
// without control characters, at most 255 bytes.
func cleanFileName(s string) string {
	if i := strings.LastIndexAny(s, `/\`); i >= 0 {
		s = s[i+1:]
	}
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	for len(s) > 255 {
		_, n := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-n]
	}
	if s == "" || s == "." || s == ".." {
		return "evidence"
	}
	return s
}

// mediaType is the media type a browser gave a file, checked; else
// application/octet-stream.
func mediaType(s string) string {
	mt, _, err := mime.ParseMediaType(s)
	if err != nil || !strings.Contains(mt, "/") {
		return "application/octet-stream"
	}
	return mt
}

// reportFilingOf is the filing the form's fields give, and the refusal
// of a severity that is not a number.
func reportFilingOf(in reportInput) (workflow.ReportFiling, *dialogue.FieldError) {
	sev, sevErr := workflow.ParseSeverity(in.Severity)
	return workflow.ReportFiling{
		Channel: in.Channel, Title: in.Title, Description: in.Description, Indicators: in.Indicators,
		TLP: in.TLP, Sectors: in.Sectors, Severity: sev, Recipients: splitRecipients(in.Recipients),
	}, sevErr
}

// splitRecipients reads the recipients field: names separated by commas
// or spaces.
func splitRecipients(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
}

// checkReport checks a filing by the workflow's filing rules
// (Workflow.CheckReportFiling), before any evidence file is read: the
// refused fields, with sevErr (a severity that is not a number) in place
// of the workflow's word on the severity. An error other than refused
// fields is left to the filing.
func checkReport(ctx context.Context, wf *workflow.Service, filing workflow.ReportFiling, sevErr *dialogue.FieldError) dialogue.FieldErrors {
	refused := dialogue.FieldErrorsOf(wf.CheckReportFiling(ctx, filing))
	if sevErr != nil {
		if fe := refused.Field("severity"); fe != nil {
			*fe = *sevErr
		} else {
			refused = append(refused, sevErr)
		}
	}
	return refused
}

// fieldLabels are the form's names of the filing's fields, as refusals
// begin; the bundle is what the form makes of the evidence files.
var fieldLabels = map[string]struct{ field, label string }{
	"channel": {"channel", "Channel"}, "title": {"title", "Title"}, "description": {"description", "Description"},
	"indicators": {"indicators", "Indicators"}, "tlp": {"tlp", "TLP"}, "recipients": {"recipients", "Recipients"},
	"sectors": {"sectors", "Sectors"}, "severity": {"severity", "Severity"}, "bundle": {"evidence", "Evidence files"},
	"evidence": {"evidence", "Evidence files"},
}

// setErrors sets the refusal of each field, in the page's language: the
// field's label and the workflow's reason, translated.
func (f *reportForm) setErrors(l locale, refused dialogue.FieldErrors) {
	for _, fe := range refused {
		fl, ok := fieldLabels[fe.Field]
		if !ok {
			fl.field, fl.label = fe.Field, fe.Field
		}
		if _, done := f.Errors[fl.field]; !done {
			f.Errors[fl.field] = l.T(fl.label) + ": " + l.T(fe.Reason, fe.Args...)
		}
	}
}

// ---- words

// severityRU are the severity words in Russian (of "серьёзность",
// feminine: kept apart from the threat levels' words).
var severityRU = map[string]string{"low": "низкая", "moderate": "умеренная", "significant": "значительная", "high": "высокая", "critical": "критическая"}

// sectorRU are the sectors' names in Russian, by their English name (the
// taxonomy's names, kept apart from the catalogue of the UI's texts).
var sectorRU = map[string]string{
	"Chemical":                         "Химическая промышленность",
	"Commercial Facilities":            "Коммерческие объекты",
	"Communications":                   "Связь",
	"Critical Manufacturing":           "Критически важное производство",
	"Dams":                             "Плотины",
	"Defense Industrial Base":          "Оборонно-промышленный комплекс",
	"Emergency Services":               "Экстренные службы",
	"Energy":                           "Энергетика",
	"Financial Services":               "Финансовые услуги",
	"Food and Agriculture":             "Продовольствие и сельское хозяйство",
	"Government Facilities":            "Государственные объекты",
	"Healthcare and Public Health":     "Здравоохранение и общественное здоровье",
	"Information Technology":           "Информационные технологии",
	"Nuclear":                          "Атомная отрасль",
	"Transportation Systems":           "Транспортные системы",
	"Water and Water Systems":          "Водоснабжение и водные системы",
	"Banking":                          "Банковский сектор",
	"Financial market infrastructures": "Инфраструктура финансового рынка",
	"Health":                           "Здравоохранение",
	"Drinking water":                   "Питьевая вода",
	"Waste water":                      "Сточные воды",
	"Digital infrastructure":           "Цифровая инфраструктура",
	"ICT service management (business-to-business)":   "Управление услугами ИКТ (для организаций)",
	"Public administration":                           "Государственное управление",
	"Space":                                           "Космическая отрасль",
	"Postal and courier services":                     "Почтовые и курьерские услуги",
	"Waste management":                                "Обращение с отходами",
	"Production, processing and distribution of food": "Производство, переработка и распределение пищевых продуктов",
	"Manufacturing":                                   "Обрабатывающая промышленность",
	"Digital providers":                               "Цифровые провайдеры",
	"Research":                                        "Научные исследования",
}

// word is a word of one of the maps above in the page's language.
func (p *page) word(m map[string]string, en string) string {
	if p.Lang == "ru" {
		if v, ok := m[en]; ok {
			return v
		}
	}
	return en
}

// reportRU are the Russian texts of the report pages.
var reportRU = map[string]string{
	"Incident reports":           "Отчёты об инцидентах",
	"Incident report":            "Отчёт об инциденте",
	"New incident report":        "Новый отчёт об инциденте",
	"File a new incident report": "Подать новый отчёт об инциденте",
	"All incident reports":       "Все отчёты об инцидентах",
	"No incident reports.":       "Отчётов об инцидентах нет.",
	"Title":                      "Заголовок",
	"Sectors":                    "Секторы",
	"Severity":                   "Серьёзность",
	"TLP marking":                "Пометка TLP",
	"Filed":                      "Подан",
	"Channel":                    "Канал",
	"Description":                "Описание",
	"Size":                       "Размер",
	"Page %d of the %d incident reports you may see.": "Страница %d; всего доступных вам отчётов об инцидентах: %d.",
	"Only its named recipients may read this report.": "Читать этот отчёт могут только названные в нём получатели.",
	"Identifier":                          "Идентификатор",
	"Indicators":                          "Индикаторы",
	"Indicator":                           "Индикатор",
	"Pattern":                             "Шаблон",
	"Names":                               "Что называет",
	"Territory and autonomous system":     "Территория и автономная система",
	"No address looked up.":               "Адреса не определялись.",
	"More addresses than were looked up.": "Адресов больше, чем было проверено.",
	"No indicators.":                      "Индикаторов нет.",
	"Evidence":                            "Доказательства",
	"File":                                "Файл",
	"Media type":                          "Тип данных",
	"Download":                            "Скачать",
	"Unnamed artifact":                    "Артефакт без имени",
	"Not received yet.":                   "Ещё не получен.",
	"No evidence files.":                  "Файлов-доказательств нет.",
	"Related objects":                     "Связанные объекты",
	"Type":                                "Тип",
	"Name or value":                       "Название или значение",
	"No other objects.":                   "Других объектов нет.",
	"%d of the report's objects are not shown: not received yet, or marked above what you may see.": "Не показано объектов отчёта: %d (ещё не получены или помечены выше того, что вам разрешено видеть).",
	"Requests about this report":     "Запросы по этому отчёту",
	"Submitted":                      "Подан",
	"No requests about this report.": "Запросов по этому отчёту нет.",
	"This node has no active channel yet: a report is filed on a channel.": "На этом узле пока нет действующего канала, а отчёт подаётся в канал.",
	"Pick a channel": "Выберите канал",
	"One a line: an IP address, a network (CIDR), a domain, a URL, an e-mail address, a file hash, or a STIX pattern in brackets.": "По одному в строке: IP-адрес, сеть (CIDR), домен, URL, адрес электронной почты, хеш файла или шаблон STIX в квадратных скобках.",
	"Sectors hit":               "Затронутые секторы",
	"Recipients (TLP:RED only)": "Получатели (только для TLP:RED)",
	"User names or role:ROLE, separated by commas: only they may read a TLP:RED report, on both nodes.": "Имена пользователей или role:РОЛЬ через запятую: только они смогут читать отчёт TLP:RED, на обоих узлах.",
	"Evidence files": "Файлы-доказательства",
	"Up to %s each; kept by their SHA-256 and sent to the other party.": "До %s каждый; хранятся по SHA-256 и передаются другой стороне.",
	"File the report":                 "Подать отчёт",
	"%d bytes":                        "%d байт",
	"%.1f KiB":                        "%.1f КиБ",
	"%.1f MiB":                        "%.1f МиБ",
	"%.1f GiB":                        "%.1f ГиБ",
	"unknown":                         "неизвестно",
	"(and others in the network)":     "(и другие в этой сети)",
	"A file is over the limit of %s.": "Файл больше допустимых %s.",
	"Choose the files again: a refused form does not keep them.":                     "Выберите файлы заново: отклонённая форма их не сохраняет.",
	"The files could not be read: %s":                                                "Не удалось прочитать файлы: %s",
	"The form could not be read: %s":                                                 "Не удалось прочитать форму: %s",
	"The report was not filed: %s":                                                   "Отчёт не подан: %s",
	"The report was not filed: correct the fields marked below.":                     "Отчёт не подан: исправьте отмеченные ниже поля.",
	"Your role may only read; filing a report needs the role duty, expert or admin.": "Ваша роль позволяет только чтение; для подачи отчёта нужна роль duty, expert или admin.",
	// The filing rules' refusals (workflow.CheckReport), after the
	// field's label.
	"TLP":        "TLP",
	"Recipients": "Получатели",
	"required; pick the channel to file the report on.":            "обязательное поле; выберите канал, в который подаётся отчёт.",
	"%q is not a channel of this node.":                            "%q не является каналом этого узла.",
	"required; say in a line what happened.":                       "обязательное поле; одной строкой скажите, что произошло.",
	"%d characters; at most %d.":                                   "символов %d, допускается не больше %d.",
	"more than %d; file the rest in another report.":               "больше %d; подайте остальные другим отчётом.",
	"line %d: %d bytes; at most %d.":                               "строка %d: байт %d, допускается не больше %d.",
	"line %d (%s): not a valid STIX pattern: %s":                   "строка %d (%s): недопустимый шаблон STIX: %s",
	"line %d (%s): an address with a zone names no host elsewhere": "строка %d (%s): адрес с зоной не указывает на узел за пределами этой сети",
	"line %d (%s): not a network address: did you mean %s?":        "строка %d (%s): это не адрес сети: возможно, имелось в виду %s?",
	"line %d (%s): not a URL: want scheme://host/path":             "строка %d (%s): это не URL: нужно схема://узел/путь",
	"line %d (%s): not an e-mail address: want name@domain":        "строка %d (%s): это не адрес электронной почты: нужно имя@домен",
	"line %d (%s): not an IP address, network, domain, URL, e-mail address, hash (MD5, SHA-1, SHA-256, SHA-512) or STIX pattern in brackets": "строка %d (%s): это не IP-адрес, не сеть, не домен, не URL, не адрес электронной почты, не хеш (MD5, SHA-1, SHA-256, SHA-512) и не шаблон STIX в квадратных скобках",
	"required; pick the report's TLP 2.0 marking.":                                           "обязательное поле; выберите пометку TLP 2.0 для отчёта.",
	"%q is not a TLP 2.0 level (clear, green, amber, amber+strict, red).":                    "%q не является уровнем TLP 2.0 (clear, green, amber, amber+strict, red).",
	"%q is not a user name or role:ROLE.":                                                    "%q не является ни именем пользователя, ни role:РОЛЬ.",
	"required for TLP:RED; name the users (or role:ROLE) who may read the report.":           "обязательны для TLP:RED; назовите пользователей (или role:РОЛЬ), которые могут читать отчёт.",
	"only a TLP:RED report names recipients.":                                                "получателей называет только отчёт TLP:RED.",
	"required; name at least one sector the incident hit.":                                   "обязательное поле; назовите хотя бы один сектор, затронутый инцидентом.",
	"%q is not a sector code.":                                                               "%q не является кодом сектора.",
	"%q; want a number from 1 (low) to 5 (critical).":                                        "%q; нужно число от 1 (низкая) до 5 (критическая).",
	"not a STIX 2.1 bundle: %s":                                                              "это не пакет STIX 2.1: %s",
	"%s/pattern (%s): %s":                                                                    "%s/pattern (%s): %s",
	"holds no incident and no indicator: a report is about an incident or gives indicators.": "нет ни инцидента, ни индикатора: отчёт говорит об инциденте или даёт индикаторы.",
	"file %d has no name.":                                                                   "у файла %d нет имени.",
	"%q: a size of %d bytes; a file has at least 0.":                                         "%q: размер %d байт; у файла не меньше 0.",
}
