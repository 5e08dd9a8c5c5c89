package camsd

import "time"

// NumberTxn is one phone number as a migration rule sees it inside Store.ChangeNumber: the
// store reads it, the rule changes it in place, and the store writes the changes back, all
// atomically with respect to every other change of the same number.
type NumberTxn struct {
	// CustSpaceID is the space the call acts in; Number the phone number.
	CustSpaceID string
	Number      string

	// Records holds the number in every space that has it. The rule may change a record's
	// fields other than CustSpaceID and Number, and may append a record for a space that does
	// not have the number yet; a record appended with an empty ID gets a new random id
	// (NewNumberID: 15 digits, not guessable, unrelated to other numbers' ids), which the
	// store sets in Records before ChangeNumber returns.
	Records []PhoneNumber

	// LastCode is the newest code of the number in CustSpaceID whose delivery did not fail,
	// nil when there is none. The rule may change its Attempts and UsedAt.
	LastCode *VerifyCode

	// Registrations are the times the number was registered, in any space, at or after the
	// since time given to ChangeNumber, oldest first.
	Registrations []time.Time

	// Register, when not zero, records a registration of the number in CustSpaceID then.
	Register time.Time

	// Audit are records to append to the audit trail.
	Audit []AuditRecord
}

// Record returns the number's record in space, or nil.
func (t *NumberTxn) Record(space string) *PhoneNumber {
	for i := range t.Records {
		if t.Records[i].CustSpaceID == space {
			return &t.Records[i]
		}
	}
	return nil
}

// AuditRecord is one change to a number: who made it, with which key, when, in which call,
// and how it ended.
type AuditRecord struct {
	At          time.Time
	Action      string // the API action, e.g. ChatappMigrationVerified
	CustSpaceID string
	PhoneNumber string
	UID         string // the caller's account
	UserName    string // the caller's RAM user; empty for the account's own key
	AccessKeyID string
	RequestID   string
	Outcome     string // the wire Code the call answered: OK, or a refusal that changed state
	Detail      string // what changed, for people
}

// AuditQuery selects audit records. Empty fields match everything.
type AuditQuery struct {
	PhoneNumber string
	UID         string
	Limit       int // at most this many, newest first; <= 0: all
}

// Clone returns a copy of t that shares nothing a rule may change: what a store keeps to
// find, with Changes, what the rule changed.
func (t *NumberTxn) Clone() NumberTxn {
	c := *t
	c.Records = append([]PhoneNumber(nil), t.Records...)
	if t.LastCode != nil {
		code := *t.LastCode
		c.LastCode = &code
	}
	c.Registrations = append([]time.Time(nil), t.Registrations...)
	c.Audit = append([]AuditRecord(nil), t.Audit...)
	return c
}

// Changes says what a rule changed in t since before (a Clone taken before it ran): the
// records it appended, in order, and those it changed, as pointers into t.Records so that a
// store can set an appended record's new id; and whether LastCode's Attempts or UsedAt
// changed. Register and Audit are read from t directly.
func (t *NumberTxn) Changes(before NumberTxn) (added, changed []*PhoneNumber, code bool) {
	for i := range t.Records {
		r := &t.Records[i]
		switch old := before.Record(r.CustSpaceID); {
		case old == nil:
			added = append(added, r)
		case *old != *r:
			changed = append(changed, r)
		}
	}
	if t.LastCode != nil && before.LastCode != nil {
		code = t.LastCode.Attempts != before.LastCode.Attempts || !t.LastCode.UsedAt.Equal(before.LastCode.UsedAt)
	}
	return added, changed, code
}
