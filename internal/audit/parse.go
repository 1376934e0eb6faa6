package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// ParseEvent reads one event exactly as the API lists it: a JSON object of Event's eleven
// members, each once, by its exact name, each a string. Anything else is an error, since an
// event's hash covers the event as the API returns it: a member this build does not know, a
// second copy of one, or one spelled in another case would go unhashed if it were dropped or
// merged, as a plain decode into Event would.
func ParseEvent(raw []byte) (Event, error) {
	var e Event
	fields := eventFields(&e)
	var seen [len(eventFieldNames)]bool
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return Event{}, errors.New("an event is not a JSON object")
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return Event{}, fmt.Errorf("an event is not valid JSON: %w", err)
		}
		name, _ := tok.(string)
		i := fieldIndex(name)
		switch {
		case i < 0:
			return Event{}, fmt.Errorf("an event has a member %q that is not one of an event's", name)
		case seen[i]:
			return Event{}, fmt.Errorf("an event has the member %q twice", name)
		}
		seen[i] = true
		tok, err = dec.Token()
		value, ok := tok.(string)
		if err != nil || !ok {
			return Event{}, fmt.Errorf("an event's member %q is not a string", name)
		}
		*fields[i] = value
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return Event{}, errors.New("an event is not valid JSON")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Event{}, errors.New("an event is followed by more JSON")
	}
	for i, ok := range seen {
		if !ok {
			return Event{}, fmt.Errorf("event %q has no member %q", e.ID, eventFieldNames[i])
		}
	}
	return e, nil
}

// fieldIndex is the position of the member name in eventFieldNames, or -1.
func fieldIndex(name string) int {
	for i, n := range eventFieldNames {
		if n == name {
			return i
		}
	}
	return -1
}
