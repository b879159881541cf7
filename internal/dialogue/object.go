package dialogue

import (
	"errors"
	"fmt"
	"time"
)

// Object is one version of one STIX object as a node stores it.
type Object struct {
	ID          string    // "type--uuid"
	Type        string    // the part of ID before "--"
	SpecVersion string    // "2.1"
	Created     time.Time // zero when the object has none (SCOs)
	Modified    time.Time // zero when the object has none (SCOs, marking definitions)
	// DateAdded is set by the store when the version is first added:
	// strictly increasing over every object of a store, microsecond
	// precision, so added_after never splits a batch.
	DateAdded time.Time
	// Raw is the object's JSON exactly as received.
	Raw []byte
	// TLP is what the store kept, when it added this version, of the TLP
	// marking its JSON names: stix.ReadMarking's level ("" when
	// unmarked), known when TLPKnown. A store keeps none for a version
	// naming RED recipients, or added before it kept them; the gate then
	// reads the JSON.
	TLP      string
	TLPKnown bool
}

// Version is the timestamp that identifies this version of the object:
// modified, else created, else the zero time (an object that is not
// versioned, such as an SCO, has one version only).
func (o *Object) Version() time.Time {
	if !o.Modified.IsZero() {
		return o.Modified
	}
	return o.Created
}

// TAXIIVersion is the version reported in TAXII manifests and used by
// match[version]: Version(), or DateAdded for an unversioned object, as
// TAXII 2.1 (section 3.6) says.
func (o *Object) TAXIIVersion() time.Time {
	if v := o.Version(); !v.IsZero() {
		return v
	}
	return o.DateAdded
}

// AddStatus is what happened to one object of an AddObjects call.
type AddStatus uint8

// The outcomes of adding one object.
const (
	Added     AddStatus = iota + 1 // a new (id, version)
	Unchanged                      // that (id, version) was there already with the same content
	Rejected                       // refused; AddResult.Err says why
)

func (s AddStatus) String() string {
	switch s {
	case Added:
		return "new"
	case Unchanged:
		return "unchanged"
	case Rejected:
		return "rejected"
	}
	return "unknown"
}

// AddOption changes how AddObjects adds a batch.
type AddOption uint8

// The options of AddObjects.
const (
	// AllOrNothing makes a batch one unit: when any object of it is
	// Rejected, nothing of the batch is written or logged (the store's
	// transaction is rolled back). The rejected objects keep their
	// reasons; every other object is Rejected too, with an error that
	// wraps ErrNotAdded. A command that files several objects as one
	// thing (a report with its objects) passes it, so that a failure
	// writes nothing.
	AllOrNothing AddOption = iota + 1
)

// ErrNotAdded is wrapped by the error of an object that was not added
// because another object of its AllOrNothing batch was rejected.
var ErrNotAdded = errors.New("not added: another object of the batch was rejected")

// In reports whether opt is among opts.
func (opt AddOption) In(opts []AddOption) bool {
	for _, o := range opts {
		if o == opt {
			return true
		}
	}
	return false
}

// Refuse turns the results of an AllOrNothing batch of which some were
// rejected into the results of a batch of which nothing was written:
// every object not rejected is Rejected with ErrNotAdded (KindConflict),
// naming the first object rejected. It reports whether any was
// rejected; when none was, results are left as they are.
func Refuse(op string, results []AddResult) bool {
	first := -1
	for i, r := range results {
		if r.Status == Rejected {
			first = i
			break
		}
	}
	if first < 0 {
		return false
	}
	for i := range results {
		if results[i].Status == Rejected {
			continue
		}
		results[i].Status = Rejected
		results[i].DateAdded = time.Time{}
		results[i].Err = E(op, KindConflict, fmt.Errorf("%w (%s: %s)", ErrNotAdded, results[first].ID, Message(results[first].Err)))
	}
	return true
}

// AddResult is the outcome for one object passed to AddObjects, in the
// order they were passed.
type AddResult struct {
	ID        string
	Version   time.Time // Object.Version()
	Status    AddStatus
	DateAdded time.Time // for Added and Unchanged: when the version was first added
	Err       error     // for Rejected
}

// VersionMatch selects versions per object id (TAXII match[version]).
type VersionMatch struct {
	First, Last, All bool
	// At lists exact versions (compared to Object.TAXIIVersion()).
	At []time.Time
}

// IsZero reports whether no version filter was given.
func (v VersionMatch) IsZero() bool {
	return !v.First && !v.Last && !v.All && len(v.At) == 0
}

// ObjectFilter selects object versions in one collection. The zero value
// selects the last version of every object. Filters combine with AND;
// values inside one filter combine with OR.
type ObjectFilter struct {
	AddedAfter   time.Time // exclusive; zero means no bound
	IDs          []string
	Types        []string
	SpecVersions []string // zero means "2.1"... the latest only, per TAXII; see the store
	Versions     VersionMatch
	// Limit caps the page; 0 means the store's maximum.
	Limit int
	// After resumes a listing: the opaque Next of the previous page. Pages
	// are stable while objects are added: nothing skipped, nothing repeated.
	After string
	// MetaOnly asks for objects without Raw (manifests, versions).
	MetaOnly bool
}

// ObjectPage is one page of a listing, in ascending DateAdded order.
type ObjectPage struct {
	Objects []*Object
	// More is true when another page follows; Next then resumes after it.
	More bool
	Next string
}

// StoreStats are counters a node exports as metrics.
type StoreStats struct {
	Objects     int64 // object versions stored, over all collections
	Collections int
}
