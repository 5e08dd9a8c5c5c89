package ram

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// The policy grammar is walked by hand rather than decoded into structs because
// encoding/json matches field names case-insensitively and lets a duplicate member silently
// replace the first, while RAM element names are case-sensitive and a second "Effect" must
// not quietly win.

// member is one name/value pair of a JSON object, in document order.
type member struct {
	name  string
	value json.RawMessage
}

// members returns the members of the object raw, refusing duplicate names.
// raw must be valid JSON (Parse checks the whole document first).
func members(raw json.RawMessage, path string) ([]member, error) {
	if kind(raw) != "an object" {
		return nil, errorAt(path, "want an object, got "+kind(raw))
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil { // the opening brace
		return nil, errorAt(path, err.Error())
	}
	var ms []member
	seen := make(map[string]bool)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, errorAt(path, err.Error())
		}
		name, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, errorAt(child(path, name), err.Error())
		}
		if seen[name] {
			return nil, errorAt(child(path, name), "duplicate element")
		}
		seen[name] = true
		ms = append(ms, member{name: name, value: v})
	}
	return ms, nil
}

// elements returns the elements of the array raw.
func elements(raw json.RawMessage, path string) ([]json.RawMessage, error) {
	if kind(raw) != "a list" {
		return nil, errorAt(path, "want a list, got "+kind(raw))
	}
	var es []json.RawMessage
	if err := json.Unmarshal(raw, &es); err != nil {
		return nil, errorAt(path, err.Error())
	}
	return es, nil
}

// str returns the JSON string raw.
func str(raw json.RawMessage, path string) (string, error) {
	if kind(raw) != "a string" {
		return "", errorAt(path, "want a string, got "+kind(raw))
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", errorAt(path, err.Error())
	}
	return s, nil
}

// stringList returns raw, a string or a non-empty list of strings, as a list; the path of each
// string is given alongside it so that callers can name the one they reject.
func stringList(raw json.RawMessage, path string) (values, paths []string, err error) {
	if kind(raw) == "a string" {
		s, err := str(raw, path)
		return []string{s}, []string{path}, err
	}
	es, err := elements(raw, path)
	if err != nil {
		return nil, nil, errorAt(path, "want a string or a list of strings, got "+kind(raw))
	}
	if len(es) == 0 {
		return nil, nil, errorAt(path, "empty list")
	}
	for i, e := range es {
		s, err := str(e, index(path, i))
		if err != nil {
			return nil, nil, err
		}
		values = append(values, s)
		paths = append(paths, index(path, i))
	}
	return values, paths, nil
}

// scalar returns the text of a condition value: a string as is, a number or a boolean as
// written. RAM accepts all three (`"NumericLessThan": {"k": 10}`, `"Bool": {"k": true}`);
// each operator then reads the text its own way.
func scalar(raw json.RawMessage, path string) (string, error) {
	switch kind(raw) {
	case "a string":
		return str(raw, path)
	case "a number", "a boolean":
		return string(bytes.TrimSpace(raw)), nil
	}
	return "", errorAt(path, "want a string, number or boolean, got "+kind(raw))
}

// kind names the JSON type of raw for messages.
func kind(raw json.RawMessage) string {
	b := bytes.TrimLeft(raw, " \t\r\n")
	if len(b) == 0 {
		return "nothing"
	}
	switch b[0] {
	case '{':
		return "an object"
	case '[':
		return "a list"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// quote shows a user's value in a message.
func quote(s string) string { return fmt.Sprintf("%q", s) }
