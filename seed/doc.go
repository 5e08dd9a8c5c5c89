// Package seed reads the seed file, the YAML document that declares camsd's tenants: accounts
// with their AccessKeys, RAM users with their policies, spaces with their phone numbers, and
// the numbers an account bought pre-validated.
//
//	accounts:
//	  - uid: "1000000000000001"       # the Alibaba Cloud account id (digits)
//	    name: isv-acme
//	    subscribed: true              # default true; false: every call answers Product.Unsubscript
//	    qps: 10                       # optional flow-control override, >= 1
//	    access_keys:                  # the account's own keys, never limited by RAM
//	      - {id: LTAI5tAcmeRoot00000001, secret: acmeRootSecret0000000000000001}
//	    ram_users:
//	      - name: ops
//	        access_keys:
//	          - {id: LTAI5tAcmeOps000000001, secret: acmeOpsSecret00000000000001, status: Active}
//	        policies:                 # identity policy documents (JSON strings)
//	          - '{"Version":"1","Statement":[{"Effect":"Allow","Action":"cams:GetMigrationVerifyCode","Resource":"*"}]}'
//	    spaces:
//	      - cust_space_id: "293483938849493"
//	        name: customer-a
//	        phone_numbers:
//	          - {phone_number: "8613800001234", id: "82828893332", status: MIGRATING}
//	          - {phone_number: "8613800005678", status: UNVERIFIED, verified_name: Acme Support}
//	    prevalidated_numbers:         # bought with their code: GetPreValidatePhoneId trades it for the id
//	      - {phone_number: "8613800001111", verify_code: "123456", id: "104996122399161"}
//
// The file is read strictly, because a typo in a seed file would otherwise silently grant or
// withhold access: unknown fields, values of the wrong type and anything camsd could not serve
// are errors that name the file, the line and the path of the value, as in
//
//	seed.yaml:12:13: accounts[0].ram_users[0].policies[0]: Statement[0].Effect: want "Allow" or "Deny", got "allow"
//
// A number's status is one of UNVERIFIED, VERIFIED, MIGRATING, CONNECTED, DISCONNECTED and
// MIGRATED; a number is in one space at most in a status other than MIGRATED. verified_name is
// its display name (at most 128 characters, one line). A pre-validated number is listed once
// in the whole file, with a 6-digit verify_code and, optionally, its id (digits, one per
// number).
//
// Defaults: an account is subscribed, a key is Active, a number is MIGRATING, and a number
// without an id gets one derived from its space and number, the same at every start. A
// pre-validated number without an id gets a random one from the store when it is first
// applied, and keeps it (as it keeps any id) when the seed is applied again.
package seed
