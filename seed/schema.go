package seed

import (
	"fmt"
	"strconv"

	"github.com/goccy/go-yaml/ast"
)

// The file as written. Pointers tell an omitted value from a zero one where the default is
// not the zero value.

type fileDoc struct {
	Accounts []rawAccount `yaml:"accounts"`
}

type rawAccount struct {
	UID          text              `yaml:"uid"`
	Name         text              `yaml:"name"`
	Subscribed   *bool             `yaml:"subscribed"`
	QPS          *integer          `yaml:"qps"`
	AccessKeys   []rawKey          `yaml:"access_keys"`
	Users        []rawUser         `yaml:"ram_users"`
	Spaces       []rawSpace        `yaml:"spaces"`
	PreValidated []rawPreValidated `yaml:"prevalidated_numbers"`
	Roles        []rawRole         `yaml:"ram_roles"`
}

type rawKey struct {
	ID     text `yaml:"id"`
	Secret text `yaml:"secret"`
	Status text `yaml:"status"`
}

type rawUser struct {
	Name       text     `yaml:"name"`
	AccessKeys []rawKey `yaml:"access_keys"`
	Policies   []text   `yaml:"policies"`
}

type rawRole struct {
	Name               text     `yaml:"name"`
	MaxSessionDuration *integer `yaml:"max_session_duration"`
	TrustPolicy        text     `yaml:"trust_policy"`
	Policies           []text   `yaml:"policies"`
}

type rawSpace struct {
	CustSpaceID  text        `yaml:"cust_space_id"`
	Name         text        `yaml:"name"`
	WabaID       text        `yaml:"waba_id"`
	Pin          text        `yaml:"pin"`
	PhoneNumbers []rawNumber `yaml:"phone_numbers"`
}

type rawNumber struct {
	PhoneNumber  text `yaml:"phone_number"`
	ID           text `yaml:"id"`
	Status       text `yaml:"status"`
	VerifiedName text `yaml:"verified_name"`
}

type rawPreValidated struct {
	PhoneNumber text `yaml:"phone_number"`
	VerifyCode  text `yaml:"verify_code"`
	ID          text `yaml:"id"`
}

// nodeError is a value the decoder could not take, at its node.
type nodeError struct {
	node ast.Node
	msg  string
}

func (e *nodeError) Error() string { return e.msg }

// text is a string field. The decoder would turn any scalar into a string, and not always into
// the one written: YAML reads 0123 as octal 83 and 0x10 as 16, which must not become a
// different account uid or phone number. So a number is taken only when it reads back as
// written (plain decimal digits), and other non-strings are refused.
type text string

func (t *text) UnmarshalYAML(n ast.Node) error {
	switch n := n.(type) {
	case *ast.StringNode:
		*t = text(n.Value)
	case *ast.LiteralNode: // a | or > block
		*t = text(n.Value.Value)
	case *ast.NullNode:
		*t = ""
	case *ast.TagNode:
		// !!str is YAML's own way to say "a string as written", as in !!str 0123.
		if n.Start.Value != "!!str" {
			return &nodeError{n, "want a string, got a value tagged " + n.Start.Value}
		}
		switch v := n.Value.(type) {
		case *ast.StringNode:
			*t = text(v.Value)
		case *ast.LiteralNode:
			*t = text(v.Value.Value)
		case *ast.NullNode: // a bare !!str is the empty string
			*t = ""
		case ast.ScalarNode:
			*t = text(v.GetToken().Value)
		default:
			return &nodeError{n, "want a string, got " + nodeKind(n.Value)}
		}
	case *ast.IntegerNode:
		s := n.GetToken().Value
		if !plainDecimal(s) {
			return &nodeError{n, fmt.Sprintf("want a string; YAML reads %s as a number, quote it", s)}
		}
		*t = text(s)
	case ast.ScalarNode: // true, 1.5, .inf: a scalar the decoder would have stringified
		return &nodeError{n, fmt.Sprintf("want a string, got %s (%s); quote it", n.GetToken().Value, nodeKind(n))}
	default:
		return &nodeError{n, "want a string, got " + nodeKind(n)}
	}
	return nil
}

// plainDecimal reports whether s is digits with no leading zero, a number that every YAML
// reader reads as written.
func plainDecimal(s string) bool {
	if s == "" || (s[0] == '0' && len(s) > 1) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// integer is an int field. The decoder alone would truncate 1.5 to 1 and read "3" as 3.
type integer int

func (i *integer) UnmarshalYAML(n ast.Node) error {
	if n, ok := n.(*ast.IntegerNode); ok {
		if v, err := strconv.Atoi(n.GetToken().Value); err == nil {
			*i = integer(v)
			return nil
		}
	}
	switch n := n.(type) {
	case *ast.StringNode:
		return &nodeError{n, fmt.Sprintf("want a whole number, got %q (a string)", n.Value)}
	case ast.ScalarNode:
		return &nodeError{n, fmt.Sprintf("want a whole number, got %s (%s)", n.GetToken().Value, nodeKind(n))}
	}
	return &nodeError{n, "want a whole number, got " + nodeKind(n)}
}

// nodeKind names the YAML type of n for messages.
func nodeKind(n ast.Node) string { return typeName(n.Type()) }

func typeName(t ast.NodeType) string {
	switch t {
	case ast.MappingType:
		return "a mapping"
	case ast.SequenceType:
		return "a list"
	case ast.BoolType:
		return "a boolean"
	case ast.IntegerType, ast.FloatType, ast.InfinityType, ast.NanType:
		return "a number"
	case ast.StringType, ast.LiteralType:
		return "a string"
	case ast.NullType:
		return "null"
	}
	return "a " + t.YAMLName()
}
