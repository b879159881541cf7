package dialogue

import "time"

// Status is a TAXII 2.1 status resource: the outcome of one POST of
// objects, kept so that GET status/{id} can return it later.
type Status struct {
	ID               string // a UUID
	CollectionID     string
	Status           string // "complete" or "pending"
	RequestTimestamp time.Time
	Successes        []StatusDetail
	Failures         []StatusDetail
	Pendings         []StatusDetail
}

// StatusDetail is one object's line in a status resource.
type StatusDetail struct {
	ID      string    `json:"id"`
	Version time.Time `json:"-"`
	Message string    `json:"message,omitempty"`
}

// Total is the number of objects the request carried.
func (s *Status) Total() int { return len(s.Successes) + len(s.Failures) + len(s.Pendings) }
