package ram

import (
	"strings"
	"testing"
)

// doc wraps statements into a policy document.
func doc(statements ...string) string {
	return `{"Version":"1","Statement":[` + strings.Join(statements, ",") + `]}`
}

// allowIf is a statement that allows everything under condition cond (a JSON object).
func allowIf(cond string) string {
	return `{"Effect":"Allow","Action":"*","Resource":"*","Condition":` + cond + `}`
}

const allowAll = `{"Effect":"Allow","Action":"*","Resource":"*"}`

func mustParse(t *testing.T, d string) *Policy {
	t.Helper()
	p, err := Parse([]byte(d))
	if err != nil {
		t.Fatalf("Parse(%s): %v", d, err)
	}
	return p
}

func TestParse(t *testing.T) {
	tests := map[string]string{
		"minimal":          doc(allowAll),
		"lists":            doc(`{"Effect":"Allow","Action":["cams:Get*","cams:ChatappMigrationVerified"],"Resource":["acs:cams:*:1000000000000001:*","*"]}`),
		"not action":       doc(`{"Effect":"Deny","NotAction":"cams:Get*","Resource":"*"}`),
		"arn with colons":  doc(`{"Effect":"Allow","Action":"*","Resource":"acs:cams:*:*:space/a:b"}`),
		"pattern parts":    doc(`{"Effect":"Allow","Action":"*:*","Resource":"acs:*:*:*:*"}`),
		"empty condition":  doc(allowIf(`{}`)),
		"json scalars":     doc(allowIf(`{"NumericLessThan":{"acs:AccessId":[10,-2.5e3]},"Bool":{"acs:SecureTransport":true},"StringEquals":{"acs:AccessId":[1,false]}}`)),
		"dates":            doc(allowIf(`{"DateLessThan":{"acs:CurrentTime":["2024-01-01","2024-01-01T08:00:00+08:00","2024-01-01T00:00:00.123Z"]}}`)),
		"ip blocks":        doc(allowIf(`{"IpAddress":{"acs:SourceIp":["10.0.0.0/8","203.0.113.7","2001:db8::/32","::1"]}}`)),
		"unusual key case": doc(allowIf(`{"StringEquals":{"ACS:ACCESSID":"x"}}`)),
		"mfa key":          doc(`{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"acs:MFAPresent":"false"}}}`),
		"two statements":   doc(allowAll, `{"Effect":"Deny","Action":"cams:ChatappMigrationRegister","Resource":"*"}`),
		"whitespace":       "\n  { \"Version\" : \"1\" ,\n \"Statement\" : [ " + allowAll + " ] }\n",
	}
	for name, d := range tests {
		t.Run(name, func(t *testing.T) { mustParse(t, d) })
	}
}

func TestParse_errors(t *testing.T) {
	stmt := func(members string) string { return doc(`{` + members + `}`) }
	cond := func(c string) string { return doc(allowIf(c)) }
	tests := []struct {
		name, doc, want string
	}{
		{"empty", ``, `invalid JSON: unexpected end of JSON input`},
		{"trailing", doc(allowAll) + `x`, `invalid JSON: invalid character 'x' after top-level value`},
		{"not an object", `[]`, `a policy document is a JSON object, got a list`},
		{"no version", `{"Statement":[` + allowAll + `]}`, `Version: missing`},
		{"numeric version", `{"Version":1,"Statement":[` + allowAll + `]}`, `Version: want "1", got a number`},
		{"other version", `{"Version":"2","Statement":[` + allowAll + `]}`, `Version: want "1", got "2"`},
		{"duplicate version", `{"Version":"1","Version":"1","Statement":[` + allowAll + `]}`, `Version: duplicate element`},
		{"lower-case element", `{"version":"1","Statement":[` + allowAll + `]}`, `version: unknown element`},
		{"unknown element", `{"Version":"1","Id":"x","Statement":[` + allowAll + `]}`, `Id: unknown element`},
		{"odd element name", `{"Version":"1","a b":1}`, `"a b": unknown element`},
		{"no statement", `{"Version":"1"}`, `Statement: missing`},
		{"empty statement", `{"Version":"1","Statement":[]}`, `Statement: empty list`},
		{"statement object", `{"Version":"1","Statement":` + allowAll + `}`, `Statement: want a list, got an object`},
		{"statement string", `{"Version":"1","Statement":["x"]}`, `Statement[0]: want an object, got a string`},

		{"no effect", stmt(`"Action":"*","Resource":"*"`), `Statement[0].Effect: missing`},
		{"lower-case effect", doc(allowAll, `{"Effect":"allow","Action":"*","Resource":"*"}`), `Statement[1].Effect: want "Allow" or "Deny", got "allow"`},
		{"numeric effect", stmt(`"Effect":1,"Action":"*","Resource":"*"`), `Statement[0].Effect: want a string, got a number`},
		{"duplicate effect", stmt(`"Effect":"Deny","Effect":"Allow","Action":"*","Resource":"*"`), `Statement[0].Effect: duplicate element`},
		{"lower-case member", stmt(`"effect":"Allow","Action":"*","Resource":"*"`), `Statement[0].effect: unknown element`},
		{"sid", stmt(`"Sid":"x","Effect":"Allow","Action":"*","Resource":"*"`), `Statement[0].Sid: unknown element`},
		{"not resource", stmt(`"Effect":"Allow","Action":"*","NotResource":"*"`), `Statement[0].NotResource: unknown element`},
		{"principal", stmt(`"Effect":"Allow","Principal":{"RAM":"*"},"Action":"*","Resource":"*"`), `Statement[0].Principal: not allowed in an identity policy (only in trust and resource policies)`},

		{"no action", stmt(`"Effect":"Allow","Resource":"*"`), `Statement[0]: missing Action or NotAction`},
		{"both actions", stmt(`"Effect":"Allow","Action":"*","NotAction":"x:y","Resource":"*"`), `Statement[0]: has both Action and NotAction`},
		{"empty action list", stmt(`"Effect":"Allow","Action":[],"Resource":"*"`), `Statement[0].Action: empty list`},
		{"action object", stmt(`"Effect":"Allow","Action":{},"Resource":"*"`), `Statement[0].Action: want a string or a list of strings, got an object`},
		{"numeric action", stmt(`"Effect":"Allow","Action":["cams:A",1],"Resource":"*"`), `Statement[0].Action[1]: want a string, got a number`},
		{"action without service", stmt(`"Effect":"Allow","Action":"GetMigrationVerifyCode","Resource":"*"`), `Statement[0].Action: "GetMigrationVerifyCode": want "*" or "<service>:<action>", as in "cams:GetMigrationVerifyCode"`},
		{"bad action in list", stmt(`"Effect":"Allow","Action":["cams:A","cams:"],"Resource":"*"`), `Statement[0].Action[1]: "cams:": want "*" or "<service>:<action>", as in "cams:GetMigrationVerifyCode"`},
		{"bad not action", stmt(`"Effect":"Allow","NotAction":"a:b:c","Resource":"*"`), `Statement[0].NotAction: "a:b:c": want "*" or "<service>:<action>", as in "cams:GetMigrationVerifyCode"`},
		{"empty action", stmt(`"Effect":"Allow","Action":"","Resource":"*"`), `Statement[0].Action: "": want "*" or "<service>:<action>", as in "cams:GetMigrationVerifyCode"`},

		{"no resource", stmt(`"Effect":"Allow","Action":"*"`), `Statement[0].Resource: missing (an identity policy needs one)`},
		{"short arn", stmt(`"Effect":"Allow","Action":"*","Resource":"acs:cams:*"`), `Statement[0].Resource: "acs:cams:*": want "*" or an ARN "acs:<service>:<region>:<account>:<resource>"`},
		{"not an arn", stmt(`"Effect":"Allow","Action":"*","Resource":["*","arn:aws:s3:::b"]`), `Statement[0].Resource[1]: "arn:aws:s3:::b": want "*" or an ARN "acs:<service>:<region>:<account>:<resource>"`},
		{"empty resource list", stmt(`"Effect":"Allow","Action":"*","Resource":[]`), `Statement[0].Resource: empty list`},

		{"condition list", cond(`[]`), `Statement[0].Condition: want an object, got a list`},
		{"unknown operator", cond(`{"StringEqualsIfExists":{"acs:SourceIp":"x"}}`), `Statement[0].Condition.StringEqualsIfExists: unknown condition operator`},
		{"null operator", cond(`{"Null":{"acs:SourceIp":"true"}}`), `Statement[0].Condition.Null: unknown condition operator`},
		{"lower-case operator", cond(`{"stringEquals":{"acs:SourceIp":"x"}}`), `Statement[0].Condition.stringEquals: unknown condition operator`},
		{"duplicate operator", cond(`{"Bool":{"acs:SecureTransport":"true"},"Bool":{"acs:SecureTransport":"true"}}`), `Statement[0].Condition.Bool: duplicate element`},
		{"operator string", cond(`{"StringEquals":"x"}`), `Statement[0].Condition.StringEquals: want an object, got a string`},
		{"no keys", cond(`{"StringEquals":{}}`), `Statement[0].Condition.StringEquals: no condition keys`},
		{"unknown key", cond(`{"StringEquals":{"acs:SourceVpc":"x"}}`), `Statement[0].Condition.StringEquals."acs:SourceVpc": unknown condition key (camsd knows acs:SourceIp, acs:CurrentTime, acs:SecureTransport, acs:AccessId and acs:MFAPresent)`},
		{"same key twice", cond(`{"StringEquals":{"acs:SourceIp":"a","acs:sourceip":"b"}}`), `Statement[0].Condition.StringEquals."acs:sourceip": same key as "acs:SourceIp"`},
		{"empty value list", cond(`{"StringEquals":{"acs:SourceIp":[]}}`), `Statement[0].Condition.StringEquals."acs:SourceIp": empty list`},
		{"null value", cond(`{"StringEquals":{"acs:SourceIp":null}}`), `Statement[0].Condition.StringEquals."acs:SourceIp": want a string, number or boolean, got null`},
		{"object in values", cond(`{"StringEquals":{"acs:SourceIp":["a",{}]}}`), `Statement[0].Condition.StringEquals."acs:SourceIp"[1]: want a string, number or boolean, got an object`},
		{"nested list", cond(`{"StringLike":{"acs:AccessId":[["a"]]}}`), `Statement[0].Condition.StringLike."acs:AccessId"[0]: want a string, number or boolean, got a list`},
		{"bad cidr", cond(`{"IpAddress":{"acs:SourceIp":"10.0.0.0/33"}}`), `Statement[0].Condition.IpAddress."acs:SourceIp": "10.0.0.0/33": not a CIDR block`},
		{"bad ip in list", doc(allowAll, allowIf(`{"NotIpAddress":{"acs:SourceIp":["10.0.0.1","10.0.0.256"]}}`)), `Statement[1].Condition.NotIpAddress."acs:SourceIp"[1]: "10.0.0.256": not an IP address or CIDR block`},
		{"ip with zone", cond(`{"IpAddress":{"acs:SourceIp":"fe80::1%eth0"}}`), `Statement[0].Condition.IpAddress."acs:SourceIp": "fe80::1%eth0": not an IP address or CIDR block`},
		{"ip wildcard", cond(`{"IpAddress":{"acs:SourceIp":"*"}}`), `Statement[0].Condition.IpAddress."acs:SourceIp": "*": not an IP address or CIDR block`},
		{"bad date", cond(`{"DateLessThan":{"acs:CurrentTime":"2024-13-01"}}`), `Statement[0].Condition.DateLessThan."acs:CurrentTime": "2024-13-01": not an ISO 8601 date such as 2024-01-01T00:00:00Z or 2024-01-01`},
		{"date without zone", cond(`{"DateGreaterThan":{"acs:CurrentTime":"2024-01-01T00:00:00"}}`), `Statement[0].Condition.DateGreaterThan."acs:CurrentTime": "2024-01-01T00:00:00": not an ISO 8601 date such as 2024-01-01T00:00:00Z or 2024-01-01`},
		{"epoch date", cond(`{"DateEquals":{"acs:CurrentTime":1700000000}}`), `Statement[0].Condition.DateEquals."acs:CurrentTime": "1700000000": not an ISO 8601 date such as 2024-01-01T00:00:00Z or 2024-01-01`},
		{"bad number", cond(`{"NumericLessThan":{"acs:AccessId":"ten"}}`), `Statement[0].Condition.NumericLessThan."acs:AccessId": "ten": not a number`},
		{"hex number", cond(`{"NumericEquals":{"acs:AccessId":"0x10"}}`), `Statement[0].Condition.NumericEquals."acs:AccessId": "0x10": not a number`},
		{"infinite number", cond(`{"NumericGreaterThan":{"acs:AccessId":1e400}}`), `Statement[0].Condition.NumericGreaterThan."acs:AccessId": "1e400": number out of range`},
		{"boolean number", cond(`{"NumericEquals":{"acs:AccessId":true}}`), `Statement[0].Condition.NumericEquals."acs:AccessId": "true": not a number`},
		{"capital boolean", cond(`{"Bool":{"acs:SecureTransport":"True"}}`), `Statement[0].Condition.Bool."acs:SecureTransport": "True": want true or false`},
		{"numeric boolean", cond(`{"Bool":{"acs:SecureTransport":1}}`), `Statement[0].Condition.Bool."acs:SecureTransport": "1": want true or false`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse([]byte(tt.doc))
			if err == nil {
				t.Fatalf("Parse(%s) = %v, want error %q", tt.doc, p, tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("Parse(%s):\n got %s\nwant %s", tt.doc, err, tt.want)
			}
		})
	}
}
