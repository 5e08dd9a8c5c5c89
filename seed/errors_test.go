package seed

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// lines joins YAML lines, so that line numbers in the wanted messages can be counted.
func lines(ls ...string) string { return strings.Join(ls, "\n") + "\n" }

func TestParse_errors(t *testing.T) {
	policy := func(doc string) string {
		return lines(
			`accounts:`,
			`  - uid: "1"`,
			`    ram_users:`,
			`      - name: ops`,
			`        policies:`,
			`          - '`+doc+`'`,
		)
	}
	number := func(entries ...string) string {
		return lines(append([]string{
			`accounts:`,
			`  - uid: "1"`,
			`    spaces:`,
			`      - cust_space_id: "9"`,
			`        phone_numbers:`,
		}, entries...)...)
	}
	pre := func(list string) string {
		return lines(`accounts:`, `  - uid: "1"`, `    prevalidated_numbers: `+list)
	}
	tests := []struct {
		name, yaml, want string
	}{
		// What the YAML parser and decoder find.
		{"syntax", `accounts: [`, `seed.yaml:1:11: sequence end token ']' not found`},
		{"duplicate field", lines(`accounts:`, `  - uid: "1"`, `    uid: "2"`), `seed.yaml:3:5: mapping key "uid" already defined at [2:5]`},
		{"two documents", lines(`accounts: []`, `---`, `accounts: []`), `seed.yaml:2:1: a second YAML document; a seed file holds one`},
		{"top-level list", lines(`- uid: "1"`), `seed.yaml:1:1: want a mapping, got a list`},
		{"unknown top-level field", lines(`acounts: []`), `seed.yaml:1:1: acounts: unknown field`},
		{"unknown account field", lines(`accounts:`, `  - uid: "1"`, `    qsp: 3`), `seed.yaml:3:5: accounts[0].qsp: unknown field`},
		{"unknown field case", lines(`accounts:`, `  - UID: "1"`), `seed.yaml:2:5: accounts[0].UID: unknown field`},
		{"unknown key field", lines(`accounts:`, `  - uid: "1"`, `    access_keys: [{id: K, sec: s}]`), `seed.yaml:3:27: accounts[0].access_keys[0].sec: unknown field`},
		{"accounts not a list", lines(`accounts: 5`), `seed.yaml:1:11: accounts: want a list, got a number`},
		{"keys not a list", lines(`accounts:`, `  - uid: "1"`, `    access_keys: K`), `seed.yaml:3:18: accounts[0].access_keys: want a list, got a string`},
		{"subscribed yes", lines(`accounts:`, `  - uid: "1"`, `    subscribed: yes`), `seed.yaml:3:17: accounts[0].subscribed: want true or false, got a string`},
		{"uid octal", lines(`accounts:`, `  - uid: 0123`), `seed.yaml:2:10: accounts[0].uid: want a string; YAML reads 0123 as a number, quote it`},
		{"uid hex", lines(`accounts:`, `  - uid: 0x10`), `seed.yaml:2:10: accounts[0].uid: want a string; YAML reads 0x10 as a number, quote it`},
		{"uid boolean", lines(`accounts:`, `  - uid: true`), `seed.yaml:2:10: accounts[0].uid: want a string, got true (a boolean); quote it`},
		{"uid float", lines(`accounts:`, `  - uid: 1.5`), `seed.yaml:2:10: accounts[0].uid: want a string, got 1.5 (a number); quote it`},
		{"uid mapping", lines(`accounts:`, `  - uid: {a: 1}`), `seed.yaml:2:10: accounts[0].uid: want a string, got a mapping`},
		{"policy mapping", lines(`accounts:`, `  - uid: "1"`, `    ram_users:`, `      - name: ops`, `        policies:`, `          - {"Version": "1"}`), `seed.yaml:6:13: accounts[0].ram_users[0].policies[0]: want a string, got a mapping`},
		{"qps float", lines(`accounts:`, `  - uid: "1"`, `    qps: 1.5`), `seed.yaml:3:10: accounts[0].qps: want a whole number, got 1.5 (a number)`},
		{"qps string", lines(`accounts:`, `  - uid: "1"`, `    qps: "3"`), `seed.yaml:3:10: accounts[0].qps: want a whole number, got "3" (a string)`},
		{"qps list", lines(`accounts:`, `  - uid: "1"`, `    qps: [3]`), `seed.yaml:3:10: accounts[0].qps: want a whole number, got a list`},

		{"tag on a list", lines(`accounts: !!seq`), `seed.yaml:1:11: accounts: YAML tags other than !!str on a value are not supported`},
		{"tag on a mapping", lines(`accounts:`, `  - !!map`), `seed.yaml:2:5: accounts[0]: YAML tags other than !!str on a value are not supported`},
		{"custom tag", lines(`accounts:`, `  - uid: !custom 1`), `seed.yaml:2:10: accounts[0].uid: YAML tags other than !!str on a value are not supported`},

		// Accounts.
		{"no uid", lines(`accounts:`, `  - name: acme`), `seed.yaml:2:5: accounts[0].uid: missing`},
		{"null account", lines(`accounts:`, `  - ~`), `seed.yaml:2:5: accounts[0].uid: missing`},
		{"empty uid", lines(`accounts:`, `  - uid: ""`), `seed.yaml:2:10: accounts[0].uid: missing`},
		{"uid letters", lines(`accounts:`, `  - uid: acme`), `seed.yaml:2:10: accounts[0].uid: "acme": an account uid is digits`},
		{"duplicate uid", lines(`accounts:`, `  - uid: "1"`, `  - uid: 1`), `seed.yaml:3:10: accounts[1].uid: duplicate account uid "1" (first at accounts[0].uid, line 2)`},
		{"qps zero", lines(`accounts:`, `  - uid: "1"`, `    qps: 0`), `seed.yaml:3:10: accounts[0].qps: 0: want at least 1 (omit qps for the server's default)`},
		{"qps negative", lines(`accounts:`, `  - uid: "1"`, `    qps: -2`), `seed.yaml:3:10: accounts[0].qps: -2: want at least 1 (omit qps for the server's default)`},

		// AccessKeys.
		{"no key id", lines(`accounts:`, `  - uid: "1"`, `    access_keys:`, `      - secret: s`), `seed.yaml:4:9: accounts[0].access_keys[0].id: missing`},
		{"no secret", lines(`accounts:`, `  - uid: "1"`, `    access_keys: [{id: K}]`), `seed.yaml:3:19: accounts[0].access_keys[0].secret: missing`},
		{"key id with a comma", lines(`accounts:`, `  - uid: "1"`, `    access_keys: [{id: "K,1", secret: s}]`), `seed.yaml:3:24: accounts[0].access_keys[0].id: "K,1": an AccessKey id is letters, digits, '.', '_' and '-'`},
		{"key status case", lines(`accounts:`, `  - uid: "1"`, `    access_keys: [{id: K, secret: s, status: active}]`), `seed.yaml:3:46: accounts[0].access_keys[0].status: "active": want Active or Inactive`},
		{"duplicate key in an account", lines(`accounts:`, `  - uid: "1"`, `    access_keys: [{id: K, secret: s}, {id: K, secret: t}]`), `seed.yaml:3:44: accounts[0].access_keys[1].id: duplicate AccessKey id "K" (first at accounts[0].access_keys[0].id, line 3)`},
		{"duplicate key across accounts and users", lines(
			`accounts:`,
			`  - uid: "1"`,
			`    access_keys: [{id: K, secret: s}]`,
			`  - uid: "2"`,
			`    ram_users:`,
			`      - name: ops`,
			`        access_keys: [{id: K, secret: s}]`,
		), `seed.yaml:7:28: accounts[1].ram_users[0].access_keys[0].id: duplicate AccessKey id "K" (first at accounts[0].access_keys[0].id, line 3)`},

		// RAM users.
		{"no user name", lines(`accounts:`, `  - uid: "1"`, `    ram_users:`, `      - policies: []`), `seed.yaml:4:9: accounts[0].ram_users[0].name: missing`},
		{"user name with a space", lines(`accounts:`, `  - uid: "1"`, `    ram_users: [{name: "o p"}]`), `seed.yaml:3:24: accounts[0].ram_users[0].name: "o p": a RAM user name is 1 to 64 letters, digits, '.', '_' and '-'`},
		{"duplicate user", lines(`accounts:`, `  - uid: "1"`, `    ram_users:`, `      - {name: ops}`, `      - {name: ops}`), `seed.yaml:5:16: accounts[0].ram_users[1].name: duplicate RAM user "ops" in this account (first at accounts[0].ram_users[0].name, line 4)`},
		{"empty policy", policy(``), `seed.yaml:6:13: accounts[0].ram_users[0].policies[0]: missing policy document`},
		{"policy not JSON", policy(`Version: 1`), `seed.yaml:6:13: accounts[0].ram_users[0].policies[0]: invalid JSON: invalid character 'V' looking for beginning of value`},
		{"policy effect", policy(`{"Version":"1","Statement":[{"Effect":"allow","Action":"*","Resource":"*"}]}`), `seed.yaml:6:13: accounts[0].ram_users[0].policies[0]: Statement[0].Effect: want "Allow" or "Deny", got "allow"`},
		{"policy condition", policy(`{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"acs:SourceIp":"10.0.0.0/33"}}}]}`), `seed.yaml:6:13: accounts[0].ram_users[0].policies[0]: Statement[0].Condition.IpAddress."acs:SourceIp": "10.0.0.0/33": not a CIDR block`},
		{"policy block", lines(`accounts:`, `  - uid: "1"`, `    ram_users:`, `      - name: ops`, `        policies:`, `          - |`, `            {"Version": "2"}`), `seed.yaml:6:13: accounts[0].ram_users[0].policies[0]: Version: want "1", got "2"`},

		// Spaces and numbers.
		{"no cust_space_id", lines(`accounts:`, `  - uid: "1"`, `    spaces:`, `      - name: a`), `seed.yaml:4:9: accounts[0].spaces[0].cust_space_id: missing`},
		{"cust_space_id with a space", lines(`accounts:`, `  - uid: "1"`, `    spaces: [{cust_space_id: "a b"}]`), `seed.yaml:3:30: accounts[0].spaces[0].cust_space_id: "a b": a cust_space_id is letters, digits, '.', '_' and '-'`},
		{"duplicate cust_space_id across accounts", lines(
			`accounts:`,
			`  - uid: "1"`,
			`    spaces: [{cust_space_id: "9"}]`,
			`  - uid: "2"`,
			`    spaces: [{cust_space_id: "9"}]`,
		), `seed.yaml:5:30: accounts[1].spaces[0].cust_space_id: duplicate cust_space_id "9" (first at accounts[0].spaces[0].cust_space_id, line 3)`},
		{"waba_id not digits", lines(`accounts:`, `  - uid: "1"`, `    spaces: [{cust_space_id: "9", waba_id: "w-1"}]`), `seed.yaml:3:44: accounts[0].spaces[0].waba_id: "w-1": a WhatsApp Business Account id is digits`},
		{"pin of 4 digits", lines(`accounts:`, `  - uid: "1"`, `    spaces: [{cust_space_id: "9", pin: "1234"}]`), `seed.yaml:3:40: accounts[0].spaces[0].pin: a registration PIN is 6 digits`},
		{"no phone_number", number(`          - {id: "1"}`), `seed.yaml:6:13: accounts[0].spaces[0].phone_numbers[0].phone_number: missing`},
		{"null number", number(`          - ~`), `seed.yaml:6:13: accounts[0].spaces[0].phone_numbers[0].phone_number: missing`},
		{"number with plus", number(`          - {phone_number: "+8613800001234"}`), `seed.yaml:6:28: accounts[0].spaces[0].phone_numbers[0].phone_number: "+8613800001234": want country code and number, 8 to 15 digits, no '+' or leading 0`},
		{"number too short", number(`          - {phone_number: 1234567}`), `seed.yaml:6:28: accounts[0].spaces[0].phone_numbers[0].phone_number: "1234567": want country code and number, 8 to 15 digits, no '+' or leading 0`},
		{"number with leading 0", number(`          - phone_number: 08613800001234`), `seed.yaml:6:27: accounts[0].spaces[0].phone_numbers[0].phone_number: "08613800001234": want country code and number, 8 to 15 digits, no '+' or leading 0`},
		{"number id letters", number(`          - {phone_number: "8613800001234", id: abc}`), `seed.yaml:6:49: accounts[0].spaces[0].phone_numbers[0].id: "abc": a phone number id is digits`},
		{"status case", number(`          - {phone_number: "8613800001234", status: migrating}`), `seed.yaml:6:53: accounts[0].spaces[0].phone_numbers[0].status: "migrating": want UNVERIFIED, VERIFIED, MIGRATING, CONNECTED, DISCONNECTED or MIGRATED`},
		{"unknown status", number(`          - {phone_number: "8613800001234", status: REGISTERED}`), `seed.yaml:6:53: accounts[0].spaces[0].phone_numbers[0].status: "REGISTERED": want UNVERIFIED, VERIFIED, MIGRATING, CONNECTED, DISCONNECTED or MIGRATED`},
		{"verified name too long", number(`          - {phone_number: "8613800001234", verified_name: ` + strings.Repeat("é", 129) + `}`), `seed.yaml:6:60: accounts[0].spaces[0].phone_numbers[0].verified_name: a verified name is at most 128 characters`},
		{"verified name with spaces around", number(`          - {phone_number: "8613800001234", verified_name: " Acme"}`), `seed.yaml:6:60: accounts[0].spaces[0].phone_numbers[0].verified_name: " Acme": a verified name does not begin or end with spaces`},
		{"verified name of two lines", number(`          - {phone_number: "8613800001234", verified_name: "Acme\nShop"}`), `seed.yaml:6:60: accounts[0].spaces[0].phone_numbers[0].verified_name: "Acme\nShop": a verified name is one line, without control characters`},
		{"verified name a number", number(`          - {phone_number: "8613800001234", verified_name: 1.5}`), `seed.yaml:6:60: accounts[0].spaces[0].phone_numbers[0].verified_name: want a string, got 1.5 (a number); quote it`},
		{"duplicate number in a space", number(
			`          - {phone_number: "8613800001234", status: MIGRATED}`,
			`          - {phone_number: "8613800001234", status: MIGRATED}`,
		), `seed.yaml:7:28: accounts[0].spaces[0].phone_numbers[1].phone_number: duplicate number 8613800001234 in this space (first at accounts[0].spaces[0].phone_numbers[0].phone_number, line 6)`},
		{"number active in two spaces", lines(
			`accounts:`,
			`  - uid: "1"`,
			`    spaces:`,
			`      - cust_space_id: "9"`,
			`        phone_numbers: [{phone_number: "8613800001234"}]`,
			`  - uid: "2"`,
			`    spaces:`,
			`      - cust_space_id: "8"`,
			`        phone_numbers: [{phone_number: "8613800001234", status: CONNECTED}]`,
		), `seed.yaml:9:40: accounts[1].spaces[0].phone_numbers[0].phone_number: 8613800001234 is CONNECTED here and MIGRATING in space "9"; a number is in one space at most in a status other than MIGRATED (first at accounts[0].spaces[0].phone_numbers[0].phone_number, line 5)`},
		{"number in the lifecycle in two spaces", lines(
			`accounts:`,
			`  - uid: "1"`,
			`    spaces:`,
			`      - cust_space_id: "9"`,
			`        phone_numbers: [{phone_number: "8613800001234", status: DISCONNECTED}]`,
			`      - cust_space_id: "8"`,
			`        phone_numbers: [{phone_number: "8613800001234", status: UNVERIFIED}]`,
		), `seed.yaml:7:40: accounts[0].spaces[1].phone_numbers[0].phone_number: 8613800001234 is UNVERIFIED here and DISCONNECTED in space "9"; a number is in one space at most in a status other than MIGRATED (first at accounts[0].spaces[0].phone_numbers[0].phone_number, line 5)`},

		{"prevalidated_numbers not a list", pre(`{phone_number: "8613800001111"}`), `seed.yaml:3:27: accounts[0].prevalidated_numbers: want a list, got a mapping`},
		{"unknown pre-validated field", pre(`[{phone_number: "8613800001111", code: "123456"}]`), `seed.yaml:3:60: accounts[0].prevalidated_numbers[0].code: unknown field`},
		{"pre-validated number missing", pre(`[{verify_code: "123456"}]`), `seed.yaml:3:28: accounts[0].prevalidated_numbers[0].phone_number: missing`},
		{"pre-validated number with plus", pre(`[{phone_number: "+8613800001111", verify_code: "123456"}]`), `seed.yaml:3:43: accounts[0].prevalidated_numbers[0].phone_number: "+8613800001111": want country code and number, 8 to 15 digits, no '+' or leading 0`},
		{"pre-validated code missing", pre(`[{phone_number: "8613800001111"}]`), `seed.yaml:3:28: accounts[0].prevalidated_numbers[0].verify_code: missing`},
		{"pre-validated code of 5 digits", pre(`[{phone_number: "8613800001111", verify_code: "12345"}]`), `seed.yaml:3:73: accounts[0].prevalidated_numbers[0].verify_code: "12345": a verification code is 6 digits`},
		{"pre-validated code with a leading 0 unquoted", pre(`[{phone_number: "8613800001111", verify_code: 012345}]`), `seed.yaml:3:73: accounts[0].prevalidated_numbers[0].verify_code: want a string; YAML reads 012345 as a number, quote it`},
		{"pre-validated id letters", pre(`[{phone_number: "8613800001111", verify_code: "123456", id: pv-1}]`), `seed.yaml:3:87: accounts[0].prevalidated_numbers[0].id: "pv-1": a phone number id is digits`},
		{"pre-validated number twice", lines(
			`accounts:`,
			`  - uid: "1"`,
			`    prevalidated_numbers: [{phone_number: "8613800001111", verify_code: "123456"}]`,
			`  - uid: "2"`,
			`    prevalidated_numbers: [{phone_number: "8613800001111", verify_code: "654321"}]`,
		), `seed.yaml:5:43: accounts[1].prevalidated_numbers[0].phone_number: duplicate pre-validated number "8613800001111" (first at accounts[0].prevalidated_numbers[0].phone_number, line 3)`},
		{"pre-validated id twice", lines(
			`accounts:`,
			`  - uid: "1"`,
			`    prevalidated_numbers:`,
			`      - {phone_number: "8613800001111", verify_code: "123456", id: "7"}`,
			`      - {phone_number: "8613800002222", verify_code: "123456", id: "7"}`,
		), `seed.yaml:5:68: accounts[0].prevalidated_numbers[1].id: duplicate pre-validated number id "7" (first at accounts[0].prevalidated_numbers[0].id, line 4)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse("seed.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatalf("Parse = %+v, want error %q\n%s", s, tt.want, tt.yaml)
			}
			if err.Error() != tt.want {
				t.Errorf("Parse error:\n got %s\nwant %s\nfor\n%s", err, tt.want, tt.yaml)
			}
		})
	}
}

func TestLoad_errors(t *testing.T) {
	t.Run("missing file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "absent.yaml")
		if _, err := Load(path); !os.IsNotExist(err) {
			t.Errorf("Load(%s) error = %v, want a not-exist error", path, err)
		}
	})
	t.Run("names the path", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "seed.yaml")
		if err := os.WriteFile(path, []byte(lines(`accounts:`, `  - uid: x`)), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Load(path)
		if want := path + `:2:10: accounts[0].uid: "x": an account uid is digits`; err == nil || err.Error() != want {
			t.Errorf("Load error = %v, want %s", err, want)
		}
	})
}
