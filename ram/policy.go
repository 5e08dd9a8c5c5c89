package ram

import (
	"encoding/json"
	"strings"
)

// Policy is a parsed identity policy document. Make one with Parse; the zero Policy allows
// nothing.
type Policy struct {
	statements []statement
	trust      bool // a trust policy (ParseTrust): statements name principals, not resources
}

// statement is one element of Statement.
type statement struct {
	deny       bool
	actions    []string // patterns; with notAction, the statement covers every other action
	notAction  bool
	resources  []string // patterns
	principals []string // a trust policy's Principal.RAM patterns; nil in an identity policy
	conditions []clause // all must hold
}

// Parse parses and validates an identity policy document (JSON). The error of a document
// that RAM would refuse names the place of the first problem, as in
// `Statement[1].Condition.StringEquals."acs:SourceIp": ...`.
func Parse(doc []byte) (*Policy, error) { return parse(doc, false) }

func parse(doc []byte, trust bool) (*Policy, error) {
	if !json.Valid(doc) {
		var v any
		err := json.Unmarshal(doc, &v)
		return nil, errorAt("", "invalid JSON: "+err.Error())
	}
	if kind(doc) != "an object" {
		return nil, errorAt("", "a policy document is a JSON object, got "+kind(doc))
	}
	top, err := members(doc, "")
	if err != nil {
		return nil, err
	}
	var version, stmts json.RawMessage
	for _, m := range top {
		switch m.name {
		case "Version":
			version = m.value
		case "Statement":
			stmts = m.value
		default:
			return nil, errorAt(child("", m.name), "unknown element")
		}
	}
	if version == nil {
		return nil, errorAt("Version", "missing")
	}
	// "1" is the only version RAM knows, and its grammar writes it as a string.
	if v, err := str(version, "Version"); err != nil {
		return nil, errorAt("Version", `want "1", got `+kind(version))
	} else if v != "1" {
		return nil, errorAt("Version", `want "1", got `+quote(v))
	}
	if stmts == nil {
		return nil, errorAt("Statement", "missing")
	}
	list, err := elements(stmts, "Statement")
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, errorAt("Statement", "empty list")
	}
	p := &Policy{statements: make([]statement, 0, len(list)), trust: trust}
	for i, raw := range list {
		s, err := parseStatement(raw, index("Statement", i), trust)
		if err != nil {
			return nil, err
		}
		p.statements = append(p.statements, s)
	}
	return p, nil
}

func parseStatement(raw json.RawMessage, path string, trust bool) (statement, error) {
	var s statement
	ms, err := members(raw, path)
	if err != nil {
		return s, err
	}
	var effect, action, notAction, resource, condition, principal json.RawMessage
	for _, m := range ms {
		switch m.name {
		case "Effect":
			effect = m.value
		case "Action":
			action = m.value
		case "NotAction":
			notAction = m.value
		case "Resource":
			resource = m.value
		case "Condition":
			condition = m.value
		case "Principal":
			if !trust {
				return s, errorAt(child(path, m.name), "not allowed in an identity policy (only in trust and resource policies)")
			}
			principal = m.value
		default:
			return s, errorAt(child(path, m.name), "unknown element")
		}
	}

	if effect == nil {
		return s, errorAt(child(path, "Effect"), "missing")
	}
	switch e, err := str(effect, child(path, "Effect")); {
	case err != nil:
		return s, err
	case e == "Deny":
		s.deny = true
	case e != "Allow":
		return s, errorAt(child(path, "Effect"), `want "Allow" or "Deny", got `+quote(e))
	}

	switch {
	case action == nil && notAction == nil:
		return s, errorAt(path, "missing Action or NotAction")
	case action != nil && notAction != nil:
		return s, errorAt(path, "has both Action and NotAction")
	case notAction != nil:
		s.notAction = true
		s.actions, err = parsePatterns(notAction, child(path, "NotAction"), validAction)
	default:
		s.actions, err = parsePatterns(action, child(path, "Action"), validAction)
	}
	if err != nil {
		return s, err
	}

	if trust {
		return s, s.parseTrust(principal, resource, path)
	}
	if resource == nil {
		return s, errorAt(child(path, "Resource"), "missing (an identity policy needs one)")
	}
	if s.resources, err = parsePatterns(resource, child(path, "Resource"), validResource); err != nil {
		return s, err
	}

	if condition != nil {
		if s.conditions, err = parseCondition(condition, child(path, "Condition")); err != nil {
			return s, err
		}
	}
	return s, nil
}

// parsePatterns parses an Action, NotAction or Resource value: a pattern or a list of them,
// each checked by valid, which returns what is wrong or "".
func parsePatterns(raw json.RawMessage, path string, valid func(string) string) ([]string, error) {
	values, paths, err := stringList(raw, path)
	if err != nil {
		return nil, err
	}
	for i, v := range values {
		if msg := valid(v); msg != "" {
			return nil, errorAt(paths[i], quote(v)+": "+msg)
		}
	}
	return values, nil
}

// validAction accepts "*" and "<service>:<action>", either part possibly a pattern.
func validAction(a string) string {
	if a == "*" {
		return ""
	}
	service, name, ok := strings.Cut(a, ":")
	if !ok || service == "" || name == "" || strings.Contains(name, ":") {
		return `want "*" or "<service>:<action>", as in "cams:GetMigrationVerifyCode"`
	}
	return ""
}

// validResource accepts "*" and ARNs acs:<service>:<region>:<account>:<relative id>, any part
// possibly a pattern; the relative id may itself hold colons.
func validResource(r string) string {
	if r == "*" {
		return ""
	}
	if parts := strings.SplitN(r, ":", 5); len(parts) < 5 || parts[0] != "acs" {
		return `want "*" or an ARN "acs:<service>:<region>:<account>:<resource>"`
	}
	return ""
}
