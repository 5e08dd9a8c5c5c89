package ram

import (
	"testing"
	"time"
)

// request is the Context the condition tests start from.
func request() Context {
	return Context{
		Action:          "cams:GetMigrationVerifyCode",
		Resource:        "acs:cams:*:1000000000000001:*",
		SourceIP:        "203.0.113.7",
		CurrentTime:     time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC),
		SecureTransport: true,
		AccessID:        "LTAI5tOps",
	}
}

func TestEvaluate_conditions(t *testing.T) {
	noIP := func(c *Context) { c.SourceIP = "" }
	tests := []struct {
		name string
		cond string
		edit func(*Context) // changes to request(), if any
		want bool
	}{
		{"StringEquals", `{"StringEquals":{"acs:AccessId":"LTAI5tOps"}}`, nil, true},
		{"StringEquals other", `{"StringEquals":{"acs:AccessId":"LTAI5tDev"}}`, nil, false},
		{"StringEquals case", `{"StringEquals":{"acs:AccessId":"ltai5tops"}}`, nil, false},
		{"StringEquals any of", `{"StringEquals":{"acs:AccessId":["a","LTAI5tOps"]}}`, nil, true},
		{"StringNotEquals", `{"StringNotEquals":{"acs:AccessId":"LTAI5tDev"}}`, nil, true},
		{"StringNotEquals same", `{"StringNotEquals":{"acs:AccessId":"LTAI5tOps"}}`, nil, false},
		{"StringNotEquals none of", `{"StringNotEquals":{"acs:AccessId":["a","LTAI5tOps"]}}`, nil, false},
		{"StringEqualsIgnoreCase", `{"StringEqualsIgnoreCase":{"acs:AccessId":"ltai5tOPS"}}`, nil, true},
		{"StringEqualsIgnoreCase other", `{"StringEqualsIgnoreCase":{"acs:AccessId":"ltai5tdev"}}`, nil, false},
		{"StringNotEqualsIgnoreCase", `{"StringNotEqualsIgnoreCase":{"acs:AccessId":"ltai5tdev"}}`, nil, true},
		{"StringNotEqualsIgnoreCase same", `{"StringNotEqualsIgnoreCase":{"acs:AccessId":"ltai5tops"}}`, nil, false},
		{"StringLike star", `{"StringLike":{"acs:AccessId":"LTAI5t*"}}`, nil, true},
		{"StringLike question", `{"StringLike":{"acs:AccessId":"LTAI5t?ps"}}`, nil, true},
		{"StringLike case", `{"StringLike":{"acs:AccessId":"ltai5t*"}}`, nil, false},
		{"StringLike ip", `{"StringLike":{"acs:SourceIp":"203.0.113.*"}}`, nil, true},
		{"StringNotLike", `{"StringNotLike":{"acs:AccessId":"LTAI5tD*"}}`, nil, true},
		{"StringNotLike matching", `{"StringNotLike":{"acs:AccessId":["x","LTAI5t*"]}}`, nil, false},
		{"string of a bool key", `{"StringEquals":{"acs:SecureTransport":"true"}}`, nil, true},
		{"string of a date key", `{"StringEquals":{"acs:CurrentTime":"2024-06-01T12:00:00Z"}}`, nil, true},
		{"string of a date key in UTC", `{"StringLike":{"acs:CurrentTime":"2024-06-01T*Z"}}`, func(c *Context) { c.CurrentTime = c.CurrentTime.In(time.FixedZone("CST", 8*3600)) }, true},

		// No key of a cams request is numeric, so Numeric operators parse but never match.
		{"NumericEquals", `{"NumericEquals":{"acs:AccessId":1}}`, func(c *Context) { c.AccessID = "1" }, false},
		{"NumericNotEquals", `{"NumericNotEquals":{"acs:AccessId":1}}`, nil, false},
		{"NumericLessThan", `{"NumericLessThan":{"acs:CurrentTime":1e30}}`, nil, false},
		{"NumericGreaterThanEquals", `{"NumericGreaterThanEquals":{"acs:SecureTransport":"0"}}`, nil, false},

		{"DateEquals", `{"DateEquals":{"acs:CurrentTime":"2024-06-01T12:00:00Z"}}`, nil, true},
		{"DateEquals other zone", `{"DateEquals":{"acs:CurrentTime":"2024-06-01T20:00:00+08:00"}}`, nil, true},
		{"DateEquals other", `{"DateEquals":{"acs:CurrentTime":"2024-06-01"}}`, nil, false},
		{"DateNotEquals", `{"DateNotEquals":{"acs:CurrentTime":"2024-06-01"}}`, nil, true},
		{"DateNotEquals same", `{"DateNotEquals":{"acs:CurrentTime":["2024-06-01","2024-06-01T12:00:00Z"]}}`, nil, false},
		{"DateLessThan", `{"DateLessThan":{"acs:CurrentTime":"2025-01-01"}}`, nil, true},
		{"DateLessThan past", `{"DateLessThan":{"acs:CurrentTime":"2024-01-01"}}`, nil, false},
		{"DateLessThan same", `{"DateLessThan":{"acs:CurrentTime":"2024-06-01T12:00:00Z"}}`, nil, false},
		{"DateLessThanEquals same", `{"DateLessThanEquals":{"acs:CurrentTime":"2024-06-01T12:00:00Z"}}`, nil, true},
		{"DateLessThanEquals past", `{"DateLessThanEquals":{"acs:CurrentTime":"2024-06-01T11:59:59Z"}}`, nil, false},
		{"DateGreaterThan", `{"DateGreaterThan":{"acs:CurrentTime":"2024-01-01"}}`, nil, true},
		{"DateGreaterThan same", `{"DateGreaterThan":{"acs:CurrentTime":"2024-06-01T12:00:00Z"}}`, nil, false},
		{"DateGreaterThanEquals same", `{"DateGreaterThanEquals":{"acs:CurrentTime":"2024-06-01T12:00:00Z"}}`, nil, true},
		{"DateGreaterThanEquals future", `{"DateGreaterThanEquals":{"acs:CurrentTime":"2025-01-01"}}`, nil, false},
		{"Date of a string key", `{"DateNotEquals":{"acs:AccessId":"2024-01-01"}}`, nil, false},

		{"Bool", `{"Bool":{"acs:SecureTransport":"true"}}`, nil, true},
		{"Bool json", `{"Bool":{"acs:SecureTransport":true}}`, nil, true},
		{"Bool other", `{"Bool":{"acs:SecureTransport":"false"}}`, nil, false},
		{"Bool plain HTTP", `{"Bool":{"acs:SecureTransport":false}}`, func(c *Context) { c.SecureTransport = false }, true},
		{"Bool of an ip key", `{"Bool":{"acs:SourceIp":"true"}}`, nil, false},
		{"Bool MFAPresent never set", `{"Bool":{"acs:MFAPresent":["true","false"]}}`, nil, false},

		{"IpAddress block", `{"IpAddress":{"acs:SourceIp":"203.0.113.0/24"}}`, nil, true},
		{"IpAddress other block", `{"IpAddress":{"acs:SourceIp":"198.51.100.0/24"}}`, nil, false},
		{"IpAddress address", `{"IpAddress":{"acs:SourceIp":"203.0.113.7"}}`, nil, true},
		{"IpAddress unmasked block", `{"IpAddress":{"acs:SourceIp":"203.0.113.99/24"}}`, nil, true},
		{"IpAddress any of", `{"IpAddress":{"acs:SourceIp":["198.51.100.0/24","203.0.0.0/16"]}}`, nil, true},
		{"IpAddress v6", `{"IpAddress":{"acs:SourceIp":"2001:db8::/32"}}`, func(c *Context) { c.SourceIP = "2001:db8:1::5" }, true},
		{"IpAddress v6 other", `{"IpAddress":{"acs:SourceIp":"2001:db9::/32"}}`, func(c *Context) { c.SourceIP = "2001:db8:1::5" }, false},
		{"IpAddress v6 source v4 block", `{"IpAddress":{"acs:SourceIp":"0.0.0.0/0"}}`, func(c *Context) { c.SourceIP = "2001:db8::1" }, false},
		{"IpAddress v4-mapped source", `{"IpAddress":{"acs:SourceIp":"203.0.113.0/24"}}`, func(c *Context) { c.SourceIP = "::ffff:203.0.113.7" }, true},
		{"IpAddress of a string key", `{"IpAddress":{"acs:AccessId":"0.0.0.0/0"}}`, func(c *Context) { c.AccessID = "10.0.0.1" }, false},
		{"NotIpAddress", `{"NotIpAddress":{"acs:SourceIp":"198.51.100.0/24"}}`, nil, true},
		{"NotIpAddress inside", `{"NotIpAddress":{"acs:SourceIp":"203.0.113.0/24"}}`, nil, false},
		{"NotIpAddress none of", `{"NotIpAddress":{"acs:SourceIp":["198.51.100.0/24","203.0.113.7"]}}`, nil, false},
		{"NotIpAddress v6", `{"NotIpAddress":{"acs:SourceIp":"10.0.0.0/8"}}`, func(c *Context) { c.SourceIP = "2001:db8::1" }, true},

		// A key the request does not carry matches no operator, negated or not.
		{"missing ip IpAddress", `{"IpAddress":{"acs:SourceIp":"0.0.0.0/0"}}`, noIP, false},
		{"missing ip NotIpAddress", `{"NotIpAddress":{"acs:SourceIp":"10.0.0.0/8"}}`, noIP, false},
		{"missing ip StringNotEquals", `{"StringNotEquals":{"acs:SourceIp":"10.0.0.1"}}`, noIP, false},
		{"missing ip StringLike", `{"StringLike":{"acs:SourceIp":"*"}}`, noIP, false},
		{"missing access id", `{"StringNotLike":{"acs:AccessId":"x"}}`, func(c *Context) { c.AccessID = "" }, false},
		{"missing time", `{"DateGreaterThan":{"acs:CurrentTime":"2000-01-01"}}`, func(c *Context) { c.CurrentTime = time.Time{} }, false},
		{"missing time DateNotEquals", `{"DateNotEquals":{"acs:CurrentTime":"2000-01-01"}}`, func(c *Context) { c.CurrentTime = time.Time{} }, false},
		{"missing time StringNotEquals", `{"StringNotEquals":{"acs:CurrentTime":"x"}}`, func(c *Context) { c.CurrentTime = time.Time{} }, false},
		{"unparsable ip IpAddress", `{"IpAddress":{"acs:SourceIp":"0.0.0.0/0"}}`, func(c *Context) { c.SourceIP = "unknown" }, false},
		{"unparsable ip NotIpAddress", `{"NotIpAddress":{"acs:SourceIp":"10.0.0.0/8"}}`, func(c *Context) { c.SourceIP = "unknown" }, false},
		{"unparsable ip as string", `{"StringEquals":{"acs:SourceIp":"unknown"}}`, func(c *Context) { c.SourceIP = "unknown" }, true},

		{"key case", `{"IpAddress":{"ACS:SOURCEIP":"203.0.113.0/24"}}`, nil, true},
		{"operators ANDed", `{"IpAddress":{"acs:SourceIp":"203.0.113.0/24"},"Bool":{"acs:SecureTransport":"true"}}`, nil, true},
		{"operators ANDed one fails", `{"IpAddress":{"acs:SourceIp":"203.0.113.0/24"},"Bool":{"acs:SecureTransport":"false"}}`, nil, false},
		{"keys ANDed", `{"StringEquals":{"acs:AccessId":"LTAI5tOps","acs:SourceIp":"203.0.113.7"}}`, nil, true},
		{"keys ANDed one fails", `{"StringEquals":{"acs:AccessId":"LTAI5tOps","acs:SourceIp":"203.0.113.8"}}`, nil, false},
		{"empty condition", `{}`, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustParse(t, doc(allowIf(tt.cond)))
			c := request()
			if tt.edit != nil {
				tt.edit(&c)
			}
			if got := Evaluate([]*Policy{p}, c).Allowed; got != tt.want {
				t.Errorf("allowed = %v, want %v, for condition %s and %+v", got, tt.want, tt.cond, c)
			}
		})
	}
}

// No request key is numeric, so the Numeric comparisons are checked on their own.
func TestOperators_numeric(t *testing.T) {
	tests := []struct {
		op        string
		got, want float64
		match     bool
	}{
		{"NumericEquals", 1, 1, true},
		{"NumericEquals", 1, 2, false},
		{"NumericNotEquals", 1, 2, true}, // negated: "none of" is applied by the clause
		{"NumericLessThan", 1, 2, true},
		{"NumericLessThan", 2, 2, false},
		{"NumericLessThanEquals", 2, 2, true},
		{"NumericLessThanEquals", 3, 2, false},
		{"NumericGreaterThan", 3, 2, true},
		{"NumericGreaterThan", 2, 2, false},
		{"NumericGreaterThanEquals", 2, 2, true},
		{"NumericGreaterThanEquals", 1, 2, false},
	}
	for _, tt := range tests {
		op := operators[tt.op]
		// For a negated operator, num says whether the value is the one to avoid.
		if got := op.num(tt.got, tt.want) != op.negated; got != tt.match {
			t.Errorf("%s(%v, %v) = %v, want %v", tt.op, tt.got, tt.want, got, tt.match)
		}
	}
}

// Every operator of RAM is in the table with a comparison of its family.
func TestOperators_complete(t *testing.T) {
	for name, op := range operators {
		var ok bool
		switch op.family {
		case familyString:
			ok = op.str != nil
		case familyNumeric:
			ok = op.num != nil
		case familyDate:
			ok = op.date != nil
		case familyBool, familyIP:
			ok = op.str == nil && op.num == nil && op.date == nil
		}
		if !ok {
			t.Errorf("operator %s: comparison does not fit its family", name)
		}
	}
	if len(operators) != 21 {
		t.Errorf("%d operators, want the 21 of RAM", len(operators))
	}
}
