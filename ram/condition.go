package ram

import (
	"encoding/json"
	"math"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// family is the type of value an operator compares.
type family int

const (
	familyString family = iota
	familyNumeric
	familyDate
	familyBool
	familyIP
)

// operator is a condition operator. Exactly one of the comparison functions is set, the one
// of its family (Bool and IP compare in one way only).
type operator struct {
	family  family
	negated bool // the key must match none of the values
	str     func(got, want string) bool
	num     func(got, want float64) bool
	date    func(got, want time.Time) bool
}

// operators are the condition operators of RAM, by their case-sensitive names. RAM has no
// ...IfExists and no Null operator.
var operators = map[string]operator{
	"StringEquals":              {family: familyString, str: strEquals},
	"StringNotEquals":           {family: familyString, str: strEquals, negated: true},
	"StringEqualsIgnoreCase":    {family: familyString, str: strings.EqualFold},
	"StringNotEqualsIgnoreCase": {family: familyString, str: strings.EqualFold, negated: true},
	"StringLike":                {family: familyString, str: strLike},
	"StringNotLike":             {family: familyString, str: strLike, negated: true},

	"NumericEquals":            {family: familyNumeric, num: func(g, w float64) bool { return g == w }},
	"NumericNotEquals":         {family: familyNumeric, num: func(g, w float64) bool { return g == w }, negated: true},
	"NumericLessThan":          {family: familyNumeric, num: func(g, w float64) bool { return g < w }},
	"NumericLessThanEquals":    {family: familyNumeric, num: func(g, w float64) bool { return g <= w }},
	"NumericGreaterThan":       {family: familyNumeric, num: func(g, w float64) bool { return g > w }},
	"NumericGreaterThanEquals": {family: familyNumeric, num: func(g, w float64) bool { return g >= w }},

	"DateEquals":            {family: familyDate, date: time.Time.Equal},
	"DateNotEquals":         {family: familyDate, date: time.Time.Equal, negated: true},
	"DateLessThan":          {family: familyDate, date: time.Time.Before},
	"DateLessThanEquals":    {family: familyDate, date: func(g, w time.Time) bool { return !g.After(w) }},
	"DateGreaterThan":       {family: familyDate, date: time.Time.After},
	"DateGreaterThanEquals": {family: familyDate, date: func(g, w time.Time) bool { return !g.Before(w) }},

	"Bool": {family: familyBool},

	"IpAddress":    {family: familyIP},
	"NotIpAddress": {family: familyIP, negated: true},
}

func strEquals(got, want string) bool { return got == want }
func strLike(got, want string) bool   { return wildcard(want, got, false) }

// clause is one key under one operator with its values, parsed by the operator's family.
type clause struct {
	op     operator
	key    conditionKey
	texts  []string
	nums   []float64
	dates  []time.Time
	bools  []bool
	blocks []netip.Prefix
}

// match reports whether the request satisfies the clause: its value of the key compares true
// with any of the values, or with none of them for a negated operator. A request without
// the key (or whose value is not of the operator's type) satisfies neither form.
func (cl *clause) match(c *Context) bool {
	var present, hit bool
	switch cl.op.family {
	case familyString:
		var got string
		got, present = c.text(cl.key)
		hit = slices.ContainsFunc(cl.texts, func(w string) bool { return cl.op.str(got, w) })
	case familyNumeric:
		var got float64
		got, present = c.number(cl.key)
		hit = slices.ContainsFunc(cl.nums, func(w float64) bool { return cl.op.num(got, w) })
	case familyDate:
		var got time.Time
		got, present = c.time(cl.key)
		hit = slices.ContainsFunc(cl.dates, func(w time.Time) bool { return cl.op.date(got, w) })
	case familyBool:
		var got bool
		got, present = c.bool(cl.key)
		hit = slices.Contains(cl.bools, got)
	case familyIP:
		var got netip.Addr
		got, present = c.addr(cl.key)
		hit = slices.ContainsFunc(cl.blocks, func(b netip.Prefix) bool { return b.Contains(got) })
	}
	return present && hit != cl.op.negated
}

// parseCondition parses a Condition element: {Operator: {Key: value or list of values}}.
func parseCondition(raw json.RawMessage, path string) ([]clause, error) {
	ops, err := members(raw, path)
	if err != nil {
		return nil, err
	}
	var clauses []clause
	for _, o := range ops {
		opPath := child(path, o.name)
		op, ok := operators[o.name]
		if !ok {
			return nil, errorAt(opPath, "unknown condition operator")
		}
		keys, err := members(o.value, opPath)
		if err != nil {
			return nil, err
		}
		if len(keys) == 0 {
			return nil, errorAt(opPath, "no condition keys")
		}
		seen := make(map[conditionKey]string)
		for _, k := range keys {
			keyPath := child(opPath, k.name)
			key, ok := lookupKey(k.name)
			if !ok {
				return nil, errorAt(keyPath, "unknown condition key (camsd knows acs:SourceIp, acs:CurrentTime, acs:SecureTransport, acs:AccessId and acs:MFAPresent)")
			}
			// Key names are case-insensitive, so acs:SourceIp and acs:sourceip are one key
			// and two entries would be ambiguous.
			if first, dup := seen[key]; dup {
				return nil, errorAt(keyPath, "same key as "+quote(first))
			}
			seen[key] = k.name
			cl, err := parseClause(op, key, k.value, keyPath)
			if err != nil {
				return nil, err
			}
			clauses = append(clauses, cl)
		}
	}
	return clauses, nil
}

// parseClause parses the value or list of values of one key under op.
func parseClause(op operator, key conditionKey, raw json.RawMessage, path string) (clause, error) {
	cl := clause{op: op, key: key}
	items := []json.RawMessage{raw}
	paths := []string{path}
	if kind(raw) == "a list" {
		var err error
		if items, err = elements(raw, path); err != nil {
			return cl, err
		}
		if len(items) == 0 {
			return cl, errorAt(path, "empty list")
		}
		paths = paths[:0]
		for i := range items {
			paths = append(paths, index(path, i))
		}
	}
	for i, item := range items {
		s, err := scalar(item, paths[i])
		if err != nil {
			return cl, err
		}
		if err := cl.add(s); err != nil {
			return cl, errorAt(paths[i], quote(s)+": "+err.Error())
		}
	}
	return cl, nil
}

// add parses value s the way the clause's operator reads it.
func (cl *clause) add(s string) error {
	switch cl.op.family {
	case familyString:
		cl.texts = append(cl.texts, s)
	case familyNumeric:
		n, err := parseNumber(s)
		if err != nil {
			return err
		}
		cl.nums = append(cl.nums, n)
	case familyDate:
		t, err := parseDate(s)
		if err != nil {
			return err
		}
		cl.dates = append(cl.dates, t)
	case familyBool:
		// Predefined values are case-sensitive in RAM: "True" is not a boolean.
		switch s {
		case "true":
			cl.bools = append(cl.bools, true)
		case "false":
			cl.bools = append(cl.bools, false)
		default:
			return errorf("want true or false")
		}
	case familyIP:
		b, err := parseBlock(s)
		if err != nil {
			return err
		}
		cl.blocks = append(cl.blocks, b)
	}
	return nil
}

// numberSyntax is the JSON number grammar. strconv alone would also take "0x10", "Inf" and
// "1_000", which RAM does not.
var numberSyntax = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// parseNumber reads a decimal number as JSON writes it.
func parseNumber(s string) (float64, error) {
	if !numberSyntax.MatchString(s) {
		return 0, errorf("not a number")
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, errorf("number out of range")
	}
	return f, nil
}

// parseDate reads an ISO 8601 date-time with a zone (RFC 3339, fractions of a second allowed)
// or a date alone, which means midnight UTC. A date-time without a zone is refused: it
// would depend on the server's time zone.
func parseDate(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, errorf("not an ISO 8601 date such as 2024-01-01T00:00:00Z or 2024-01-01")
}

// parseBlock reads an IPv4 or IPv6 address or CIDR block; an address is a block of one.
func parseBlock(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, errorf("not a CIDR block")
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, errorf("not an IP address or CIDR block")
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// errorf is a message without a path; callers put the path in front.
func errorf(msg string) error { return &parseError{msg: msg} }
