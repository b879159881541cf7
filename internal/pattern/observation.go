package pattern

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/stix"
)

// Observation is one observed-data: when and how often something was
// seen, and the cyber-observable objects that say what.
type Observation struct {
	ID             string
	FirstObserved  time.Time
	LastObserved   time.Time
	NumberObserved int // at least 1: the observation counts as this many
	Objects        []Object
}

// Object is one cyber-observable object of an observation. Key is its id
// (STIX 2.1 object_refs) or its key in the deprecated objects dictionary
// (STIX 2.0); references (*_ref, *_refs) are resolved against the keys
// of the same observation's objects. Props is the object's JSON as
// decoded by DecodeJSON.
type Object struct {
	Key   string
	Props map[string]any
}

// DecodeJSON decodes a JSON document into the values matching works on:
// nil, bool, int64, float64 (numbers with a fraction or exponent, or out
// of int64's range), string, []any and map[string]any.
func DecodeJSON(data []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if d.More() {
		return nil, fmt.Errorf("more than one JSON value")
	}
	return convertNumbers(v), nil
}

func convertNumbers(v any) any {
	switch v := v.(type) {
	case json.Number:
		s := string(v)
		if !bytes.ContainsAny([]byte(s), ".eE") {
			if n, err := v.Int64(); err == nil {
				return n
			}
		}
		f, _ := v.Float64()
		return f
	case []any:
		for i := range v {
			v[i] = convertNumbers(v[i])
		}
	case map[string]any:
		for k, x := range v {
			v[k] = convertNumbers(x)
		}
	}
	return v
}

// FromObjects returns the observations among STIX objects (a bundle's
// objects, or a list of observed-data): one per observed-data, in order.
// An observed-data's objects are those its object_refs name, found among
// the given objects; one without object_refs uses its deprecated objects
// dictionary (STIX 2.0). Other objects are not observations and are
// only looked up through object_refs.
func FromObjects(objects []json.RawMessage) ([]Observation, error) {
	const op = "pattern.FromObjects"
	decoded := make([]map[string]any, len(objects))
	byID := make(map[string]map[string]any, len(objects))
	for i, raw := range objects {
		v, err := DecodeJSON(raw)
		if err != nil {
			return nil, dialogue.Errorf(op, dialogue.KindInvalid, "object %d: not JSON: %w", i, err)
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, dialogue.Errorf(op, dialogue.KindInvalid, "object %d is not a JSON object", i)
		}
		decoded[i] = m
		if id, ok := m["id"].(string); ok {
			byID[id] = m
		}
	}
	var out []Observation
	for i, m := range decoded {
		if m["type"] != "observed-data" {
			continue
		}
		o, err := observation(m, byID)
		if err != nil {
			name := fmt.Sprintf("object %d", i)
			if id, ok := m["id"].(string); ok {
				name = id
			}
			return nil, dialogue.Errorf(op, dialogue.KindInvalid, "%s: %w", name, err)
		}
		out = append(out, o)
	}
	return out, nil
}

func observation(m map[string]any, byID map[string]map[string]any) (Observation, error) {
	var o Observation
	o.ID, _ = m["id"].(string)
	var err error
	for _, f := range []struct {
		name string
		dst  *time.Time
	}{{"first_observed", &o.FirstObserved}, {"last_observed", &o.LastObserved}} {
		s, ok := m[f.name].(string)
		if !ok {
			return o, fmt.Errorf("%s: a timestamp string is required", f.name)
		}
		if *f.dst, err = stix.ParseTime(s); err != nil {
			return o, fmt.Errorf("%s: %w", f.name, err)
		}
	}
	if o.LastObserved.Before(o.FirstObserved) {
		return o, fmt.Errorf("last_observed is before first_observed")
	}
	n, ok := m["number_observed"].(int64)
	if !ok || n < 1 || n > 999999999 {
		return o, fmt.Errorf("number_observed: an integer from 1 to 999999999 is required")
	}
	o.NumberObserved = int(n)
	if refs, ok := m["object_refs"].([]any); ok && len(refs) > 0 {
		for j, r := range refs {
			id, ok := r.(string)
			if !ok {
				return o, fmt.Errorf("object_refs[%d]: an identifier string is required", j)
			}
			if obj, ok := byID[id]; ok {
				o.Objects = append(o.Objects, Object{Key: id, Props: obj})
			}
		}
		return o, nil
	}
	if objs, ok := m["objects"].(map[string]any); ok {
		keys := make([]string, 0, len(objs))
		for k := range objs {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if obj, ok := objs[k].(map[string]any); ok {
				o.Objects = append(o.Objects, Object{Key: k, Props: obj})
			}
		}
	}
	return o, nil
}
