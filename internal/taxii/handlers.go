package taxii

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/httpapi"
	"github.com/parleyhq/parley/internal/ingest"
	"github.com/parleyhq/parley/internal/stix"
)

// Headers TAXII 2.1 sets on objects, object, versions and manifest answers.
const (
	HeaderDateAddedFirst = "X-TAXII-Date-Added-First"
	HeaderDateAddedLast  = "X-TAXII-Date-Added-Last"
)

// FormatDateAdded formats a date_added with the microsecond precision the
// store keeps, so that an added_after made from it is exact.
func FormatDateAdded(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000Z")
}

func (s *Server) baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + s.cfg.BasePath + "/"
}

func (s *Server) discovery(w http.ResponseWriter, r *http.Request) {
	root := s.baseURL(r) + APIRoot + "/"
	writeJSON(w, r, http.StatusOK, Discovery{
		Title:       s.cfg.Title,
		Description: s.cfg.Description,
		Contact:     s.cfg.Contact,
		Default:     root,
		APIRoots:    []string{root},
	})
}

func (s *Server) apiRoot(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, r, http.StatusOK, APIRootInfo{
		Title:            s.cfg.APIRootTitle,
		Description:      s.cfg.APIRootDescription,
		Versions:         []string{MediaTypeTAXII},
		MaxContentLength: s.cfg.MaxContentLength,
	})
}

func collectionInfo(c *dialogue.Collection, acc dialogue.Access) CollectionInfo {
	return CollectionInfo{
		ID: c.ID, Title: c.Title, Description: c.Description, Alias: c.Alias,
		CanRead: acc.Read, CanWrite: acc.Write,
		MediaTypes: []string{MediaTypeSTIX},
	}
}

func (s *Server) collections(w http.ResponseWriter, r *http.Request) {
	const op = "taxii.collections"
	u, err := user(r)
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	cs, err := s.store.Collections(r.Context())
	if err != nil {
		httpapi.Error(w, r, dialogue.E(op, dialogue.KindOther, err))
		return
	}
	var out Collections
	for _, c := range cs {
		acc, err := s.gate.Access(r.Context(), dialogue.UserViewer(u), c.ID)
		if err != nil {
			httpapi.Error(w, r, dialogue.E(op, dialogue.KindOther, err))
			return
		}
		if acc.Read || acc.Write {
			out.Collections = append(out.Collections, collectionInfo(c, acc))
		}
	}
	writeJSON(w, r, http.StatusOK, out)
}

func (s *Server) collection(w http.ResponseWriter, r *http.Request) {
	c, acc, err := s.collectionFor(r, needAny)
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, collectionInfo(c, acc))
}

// filter turns a parsed query into a store filter, applying the page size
// limits.
func (s *Server) filter(q Query) dialogue.ObjectFilter {
	limit := q.Limit
	if limit == 0 {
		limit = s.cfg.DefaultPageSize
	}
	if limit > s.cfg.MaxPageSize {
		limit = s.cfg.MaxPageSize
	}
	return dialogue.ObjectFilter{
		AddedAfter:   q.AddedAfter,
		IDs:          q.IDs,
		Types:        q.Types,
		SpecVersions: q.SpecVersions,
		Versions:     q.Versions,
		Limit:        limit,
		After:        q.Next,
	}
}

// find runs a listing for a handler, mapping store errors: a bad next
// value is the client's mistake (400), anything else is internal.
func (s *Server) find(r *http.Request, op, collectionID string, f dialogue.ObjectFilter) (*dialogue.ObjectPage, error) {
	page, err := s.store.FindObjects(r.Context(), collectionID, f)
	if err != nil {
		switch dialogue.KindOf(err) {
		case dialogue.KindInvalid:
			return nil, dialogue.E(op, dialogue.KindInvalid, err)
		case dialogue.KindNotFound:
			return nil, dialogue.E(op, dialogue.KindNotFound, err)
		}
		return nil, dialogue.E(op, dialogue.KindOther, err)
	}
	return page, nil
}

func setDateAddedHeaders(w http.ResponseWriter, objs []*dialogue.Object) {
	if len(objs) == 0 {
		return
	}
	w.Header().Set(HeaderDateAddedFirst, FormatDateAdded(objs[0].DateAdded))
	w.Header().Set(HeaderDateAddedLast, FormatDateAdded(objs[len(objs)-1].DateAdded))
}

const objectsParams = ParamAddedAfter | ParamLimit | ParamNext | ParamMatchID | ParamMatchType | ParamMatchVersion | ParamMatchSpecVersion

func (s *Server) getObjects(w http.ResponseWriter, r *http.Request) {
	const op = "taxii.getObjects"
	c, acc, err := s.collectionFor(r, needRead)
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	q, err := ParseQuery(r.URL.Query(), objectsParams)
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	page, err := s.find(r, op, c.ID, s.filter(q))
	if err == nil {
		page, err = s.visiblePage(r, op, c.ID, acc, page)
	}
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	writeEnvelope(w, r, page)
}

// writeEnvelope writes a page as an envelope, copying each object's JSON
// as stored, byte for byte.
func writeEnvelope(w http.ResponseWriter, r *http.Request, page *dialogue.ObjectPage) {
	size := 64
	for _, o := range page.Objects {
		size += len(o.Raw) + 1
	}
	b := bytes.NewBuffer(make([]byte, 0, size))
	b.WriteString(`{"more":`)
	b.WriteString(strconv.FormatBool(page.More))
	if page.More && page.Next != "" {
		b.WriteString(`,"next":`)
		nb, _ := json.Marshal(page.Next)
		b.Write(nb)
	}
	if len(page.Objects) > 0 {
		b.WriteString(`,"objects":[`)
		for i, o := range page.Objects {
			if i > 0 {
				b.WriteByte(',')
			}
			b.Write(o.Raw)
		}
		b.WriteByte(']')
	}
	b.WriteByte('}')
	setDateAddedHeaders(w, page.Objects)
	writeBytes(w, r, http.StatusOK, b.Bytes())
}

func objectID(r *http.Request, op string) (string, error) {
	id := chi.URLParam(r, "object")
	if !validID(id) {
		return "", dialogue.Errorf(op, dialogue.KindNotFound, "%q is not a STIX object id (type--UUID)", truncate(id, 100))
	}
	return id, nil
}

const objectParams = ParamAddedAfter | ParamLimit | ParamNext | ParamMatchVersion | ParamMatchSpecVersion

func (s *Server) getObject(w http.ResponseWriter, r *http.Request) {
	const op = "taxii.getObject"
	c, acc, err := s.collectionFor(r, needRead)
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	id, err := objectID(r, op)
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	q, err := ParseQuery(r.URL.Query(), objectParams)
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	f := s.filter(q)
	f.IDs = []string{id}
	page, err := s.find(r, op, c.ID, f)
	if err == nil {
		page, err = s.visiblePage(r, op, c.ID, acc, page)
	}
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	if len(page.Objects) == 0 && q.Next == "" {
		if err := s.objectVisible(r, op, c.ID, acc, id); err != nil {
			httpapi.Error(w, r, err)
			return
		}
	}
	writeEnvelope(w, r, page)
}

func (s *Server) deleteObject(w http.ResponseWriter, r *http.Request) {
	const op = "taxii.deleteObject"
	c, acc, err := s.collectionFor(r, needWrite)
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	id, err := objectID(r, op)
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	q, err := ParseQuery(r.URL.Query(), ParamMatchVersion|ParamMatchSpecVersion)
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	if err := s.objectVisible(r, op, c.ID, acc, id); err != nil {
		// A RED object is not there for the others.
		if dialogue.KindOf(err) == dialogue.KindNotFound {
			err = dialogue.Errorf(op, dialogue.KindNotFound, "no version of %s in collection %s matches", id, c.ID)
		}
		httpapi.Error(w, r, err)
		return
	}
	n, err := s.store.DeleteObject(r.Context(), c.ID, id, dialogue.ObjectFilter{Versions: q.Versions, SpecVersions: q.SpecVersions})
	if err != nil {
		switch dialogue.KindOf(err) {
		case dialogue.KindNotFound:
			err = dialogue.Errorf(op, dialogue.KindNotFound, "no version of %s in collection %s matches", id, c.ID)
		case dialogue.KindInvalid:
			err = dialogue.E(op, dialogue.KindInvalid, err)
		default:
			err = dialogue.E(op, dialogue.KindOther, err)
		}
		httpapi.Error(w, r, err)
		return
	}
	httpapi.LoggerFrom(r.Context()).InfoContext(r.Context(), "object deleted", "collection", c.ID, "id", id, "versions", n)
	w.Header().Set("Content-Type", MediaTypeTAXII)
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
}

func (s *Server) versions(w http.ResponseWriter, r *http.Request) {
	const op = "taxii.versions"
	c, acc, err := s.collectionFor(r, needRead)
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	id, err := objectID(r, op)
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	q, err := ParseQuery(r.URL.Query(), ParamAddedAfter|ParamLimit|ParamNext|ParamMatchSpecVersion)
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	f := s.filter(q)
	f.IDs = []string{id}
	f.Versions = dialogue.VersionMatch{All: true}
	page, err := s.find(r, op, c.ID, f) // with Raw: TLP is read from the objects
	if err == nil {
		page, err = s.visiblePage(r, op, c.ID, acc, page)
	}
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	if len(page.Objects) == 0 && q.Next == "" {
		if err := s.objectVisible(r, op, c.ID, acc, id); err != nil {
			httpapi.Error(w, r, err)
			return
		}
	}
	out := Versions{More: page.More}
	if page.More {
		out.Next = page.Next
	}
	for _, o := range page.Objects {
		out.Versions = append(out.Versions, stix.FormatTime(o.TAXIIVersion()))
	}
	setDateAddedHeaders(w, page.Objects)
	writeJSON(w, r, http.StatusOK, out)
}

func (s *Server) manifest(w http.ResponseWriter, r *http.Request) {
	const op = "taxii.manifest"
	c, acc, err := s.collectionFor(r, needRead)
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	q, err := ParseQuery(r.URL.Query(), objectsParams)
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	page, err := s.find(r, op, c.ID, s.filter(q)) // with Raw: TLP is read from the objects
	if err == nil {
		page, err = s.visiblePage(r, op, c.ID, acc, page)
	}
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	out := Manifest{More: page.More}
	if page.More {
		out.Next = page.Next
	}
	for _, o := range page.Objects {
		out.Objects = append(out.Objects, ManifestRecord{
			ID:        o.ID,
			DateAdded: FormatDateAdded(o.DateAdded),
			Version:   stix.FormatTime(o.TAXIIVersion()),
			MediaType: "application/stix+json;version=" + o.SpecVersion,
		})
	}
	setDateAddedHeaders(w, page.Objects)
	writeJSON(w, r, http.StatusOK, out)
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	const op = "taxii.status"
	u, err := user(r)
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	id := chi.URLParam(r, "status")
	notFound := dialogue.Errorf(op, dialogue.KindNotFound, "no status %q in API root %s", truncate(id, 100), APIRoot)
	if _, err := uuid.Parse(id); err != nil {
		httpapi.Error(w, r, notFound)
		return
	}
	st, err := s.store.Status(r.Context(), id)
	if err != nil {
		if dialogue.KindOf(err) == dialogue.KindNotFound {
			err = notFound
		} else {
			err = dialogue.E(op, dialogue.KindOther, err)
		}
		httpapi.Error(w, r, err)
		return
	}
	acc, err := s.gate.Access(r.Context(), dialogue.UserViewer(u), st.CollectionID)
	if err != nil {
		httpapi.Error(w, r, dialogue.E(op, dialogue.KindOther, err))
		return
	}
	if !acc.Read && !acc.Write {
		// Statuses of collections the user cannot see do not exist for them.
		httpapi.Error(w, r, notFound)
		return
	}
	writeJSON(w, r, http.StatusOK, statusResource(st))
}

func statusResource(st *dialogue.Status) Status {
	conv := func(ds []dialogue.StatusDetail) []StatusDetail {
		out := make([]StatusDetail, 0, len(ds))
		for _, d := range ds {
			sd := StatusDetail{ID: d.ID, Message: d.Message}
			if !d.Version.IsZero() {
				sd.Version = stix.FormatTime(d.Version)
			}
			out = append(out, sd)
		}
		return out
	}
	return Status{
		ID:               st.ID,
		Status:           st.Status,
		RequestTimestamp: FormatDateAdded(st.RequestTimestamp),
		TotalCount:       st.Total(),
		SuccessCount:     len(st.Successes),
		Successes:        conv(st.Successes),
		FailureCount:     len(st.Failures),
		Failures:         conv(st.Failures),
		PendingCount:     len(st.Pendings),
		Pendings:         conv(st.Pendings),
	}
}

// postObjects adds the objects of an envelope (or a bundle) to a
// collection, each on its own, and answers 202 with a status resource.
func (s *Server) postObjects(w http.ResponseWriter, r *http.Request) {
	const op = "taxii.postObjects"
	start := time.Now().UTC()
	c, _, err := s.collectionFor(r, needWrite)
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	isBundleType, err := postMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	if r.ContentLength > s.cfg.MaxContentLength {
		httpapi.Error(w, r, httpapi.TooLarge(s.cfg.MaxContentLength))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxContentLength))
	if err != nil {
		if httpapi.IsTooLarge(err) {
			httpapi.Error(w, r, httpapi.TooLarge(min(s.cfg.MaxContentLength, maxBytesLimit(err))))
			return
		}
		httpapi.Error(w, r, dialogue.Errorf(op, dialogue.KindInvalid, "reading the request body: %v", err))
		return
	}
	raws, err := parseBody(body, isBundleType)
	if err != nil {
		httpapi.Error(w, r, err)
		return
	}
	rep, err := ingest.Objects(r.Context(), s.store, c.ID, raws, ingest.EachOnItsOwn)
	if err != nil {
		httpapi.Error(w, r, dialogue.E(op, dialogue.KindOther, err))
		return
	}
	httpapi.RecordImport(r.Context(), rep.Added, rep.Unchanged, rep.Rejected)
	st := &dialogue.Status{
		ID:               uuid.NewString(),
		CollectionID:     c.ID,
		Status:           "complete",
		RequestTimestamp: start,
	}
	for _, res := range rep.Results {
		d := dialogue.StatusDetail{ID: res.ID, Version: statusVersion(res, raws)}
		switch res.Status {
		case dialogue.Added:
			d.Message = "added"
			st.Successes = append(st.Successes, d)
		case dialogue.Unchanged:
			d.Message = "unchanged: this version was there already"
			st.Successes = append(st.Successes, d)
		default:
			d.Message = failureMessage(res.Err)
			st.Failures = append(st.Failures, d)
		}
	}
	if err := s.store.CreateStatus(r.Context(), st); err != nil {
		httpapi.Error(w, r, dialogue.E(op, dialogue.KindOther, err))
		return
	}
	httpapi.LoggerFrom(r.Context()).InfoContext(r.Context(), "objects posted", "collection", c.ID, "status", st.ID,
		"new", rep.Added, "unchanged", rep.Unchanged, "rejected", rep.Rejected)
	writeJSON(w, r, http.StatusAccepted, statusResource(st))
}

// statusVersion is the version a status resource gives for one posted
// object, the one the manifest gives for it: modified, else created, else
// (an SCO, which has neither) the date its version was first added. For an
// object the validator rejected, it is read from the object as posted
// when modified or created is a valid timestamp there; else it is not
// known and zero.
func statusVersion(res ingest.Result, raws []json.RawMessage) time.Time {
	if !res.Version.IsZero() {
		return res.Version
	}
	if res.Status == dialogue.Added || res.Status == dialogue.Unchanged {
		return res.DateAdded
	}
	if res.Index < 0 || res.Index >= len(raws) {
		return time.Time{}
	}
	var v struct {
		Modified, Created string
	}
	if json.Unmarshal(raws[res.Index], &v) != nil {
		return time.Time{}
	}
	for _, s := range []string{v.Modified, v.Created} {
		if t, err := stix.ParseTime(s); err == nil {
			return t
		}
	}
	return time.Time{}
}

func maxBytesLimit(err error) int64 {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return mbe.Limit
	}
	return 0
}

// failureMessage is what a status resource says about a rejected object:
// the validator's findings, or the store's reason, never internal detail.
func failureMessage(err error) string {
	if err == nil {
		return "rejected"
	}
	var se stix.Errors
	if errors.As(err, &se) {
		return se.Error()
	}
	var e *stix.Error
	if errors.As(err, &e) {
		return e.Error()
	}
	return dialogue.Message(err)
}

// postMediaType checks a POST's Content-Type: the TAXII 2.1 media type
// (an envelope, or a bundle) or the STIX 2.1 one (a bundle). It reports
// whether the STIX type was used.
func postMediaType(ct string) (stixType bool, err error) {
	const op = "taxii.postObjects"
	unsupported := func() error {
		return httpapi.WithStatus(http.StatusUnsupportedMediaType, dialogue.Errorf(op, dialogue.KindInvalid,
			"Content-Type %q is not supported: send %s (an envelope) or %s (a bundle)", truncate(ct, 100), MediaTypeTAXII, MediaTypeSTIX))
	}
	if ct == "" {
		return false, unsupported()
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return false, unsupported()
	}
	if v, ok := params["version"]; ok && v != "2.1" {
		return false, unsupported()
	}
	switch mt {
	case "application/taxii+json":
		return false, nil
	case "application/stix+json":
		return true, nil
	}
	return false, unsupported()
}

// parseBody splits a POST body into its objects. A body that is not JSON,
// or JSON that readers may read differently (a duplicate member name, a
// number out of range, see stix.ParseEnvelope), is a 400 naming the
// JSON pointer; JSON that is not an envelope or bundle of objects is a
// 422.
func parseBody(body []byte, stixType bool) ([]json.RawMessage, error) {
	const op = "taxii.postObjects"
	unprocessable := func(format string, args ...any) error {
		return httpapi.WithStatus(http.StatusUnprocessableEntity, dialogue.Errorf(op, dialogue.KindInvalid, format, args...))
	}
	env, err := stix.ParseEnvelope(body)
	if es, ok := err.(stix.Errors); ok {
		e := es[0]
		switch {
		case e.Rule == stix.RuleObject && e.Pointer == "":
			return nil, unprocessable("the body is JSON but not an object: send an envelope {\"objects\": [...]} or a STIX bundle")
		case e.Rule == stix.RuleObject:
			return nil, unprocessable("%s: not a JSON object", e.Pointer)
		case e.Rule == stix.RuleValueType:
			return nil, unprocessable("/objects: not an array")
		case e.Pointer != "":
			return nil, dialogue.Errorf(op, dialogue.KindInvalid, "the body is not valid JSON: %s (at %s)", e.Message, e.Pointer)
		default:
			return nil, dialogue.Errorf(op, dialogue.KindInvalid, "the body is not valid JSON: %s", e.Message)
		}
	} else if err != nil {
		return nil, dialogue.E(op, dialogue.KindInvalid, err)
	}
	if env.TypeKind != "" && env.TypeKind != "a string" {
		return nil, unprocessable("/type: not a string")
	}
	typ := env.Type
	if stixType && typ != "bundle" {
		return nil, unprocessable("a %s body must be a STIX bundle (\"type\": \"bundle\")", MediaTypeSTIX)
	}
	if typ != "" && typ != "bundle" {
		return nil, unprocessable("the body is a single %q object: wrap it in an envelope {\"objects\": [...]}", truncate(typ, 60))
	}
	if !env.HasObjects {
		return nil, unprocessable("/objects: missing; send an envelope {\"objects\": [...]} or a STIX bundle")
	}
	return env.Objects, nil
}

func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		httpapi.Error(w, r, dialogue.E("taxii", dialogue.KindOther, err))
		return
	}
	writeBytes(w, r, status, b)
}

func writeBytes(w http.ResponseWriter, _ *http.Request, status int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", MediaTypeTAXII)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(b)
}
