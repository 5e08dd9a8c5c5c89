package ram

import (
	"strconv"
)

// parseError is a problem in a policy document, at a path in the document such as
// Statement[1].Condition.StringEquals."acs:SourceIp". Users fix documents by hand, so the
// path matters more than the wording.
type parseError struct {
	path string // "" for the document as a whole
	msg  string
}

func (e *parseError) Error() string {
	if e.path == "" {
		return e.msg
	}
	return e.path + ": " + e.msg
}

func errorAt(path, msg string) error { return &parseError{path: path, msg: msg} }

// child returns the path of member name under path. Names that are not plain identifiers
// (condition keys such as acs:SourceIp) are quoted so that the path reads unambiguously.
func child(path, name string) string {
	if !identifier(name) {
		name = strconv.Quote(name)
	}
	if path == "" {
		return name
	}
	return path + "." + name
}

// index returns the path of element i of the list at path.
func index(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

func identifier(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z':
		case '0' <= r && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
