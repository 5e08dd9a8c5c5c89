package camsd

import (
	"context"
	"time"
)

// Store is the system of record. Implementations hold no business rules: they read and write
// what they are given, atomically, and every write has reached stable storage when the method
// returns, or, when it is given a Call, when that Call's Wait returns (the write's outcome,
// such as ErrConflict, is final when the method returns).
type Store interface {
	// Principal returns the key with that id, its account and its RAM user (with policies).
	// Returns ErrNotFound when no such key exists.
	Principal(ctx context.Context, accessKeyID string) (*Principal, error)

	// Role returns the account's RAM role with its permission policies, and the account.
	// Returns ErrNotFound when the account has no such role.
	Role(ctx context.Context, uid, name string) (*Account, *Role, error)

	// STSSigningKey returns the key that signs STS security tokens, the same on every
	// replica of the database: the one stored, or candidate, stored now, when none is.
	STSSigningKey(ctx context.Context, candidate []byte) ([]byte, error)

	// Space returns the space. Returns ErrNotFound.
	Space(ctx context.Context, custSpaceID string) (*Space, error)

	// PhoneNumber returns the number in the space. Returns ErrNotFound.
	PhoneNumber(ctx context.Context, custSpaceID, number string) (*PhoneNumber, error)

	// Numbers returns the space's numbers, ordered by number (none: an empty slice).
	Numbers(ctx context.Context, custSpaceID string) ([]PhoneNumber, error)

	// PreValidated returns the account's pre-validated numbers, ordered by number.
	PreValidated(ctx context.Context, uid string) ([]PreValidatedNumber, error)

	// LastCode returns the newest code recorded for the number in the space, whatever its
	// status. Returns ErrNotFound when none was ever recorded.
	LastCode(ctx context.Context, custSpaceID, number string) (*VerifyCode, error)

	// SaveCode records c as the newest code of its number, unless a code for that number that
	// is not DeliveryFailed was recorded with SentAt after notSentAfter; then it records
	// nothing and returns ErrConflict. This is the compare-and-set that makes the resend
	// interval hold under concurrent requests. Returns ErrNotFound when the number is not in
	// the space, and ErrNonceUsed (recording nothing) when call's Nonce was recorded already.
	SaveCode(ctx context.Context, call *Call, c VerifyCode, notSentAfter time.Time) error

	// SaveCodeMessage is SaveCode for a code whose delivery is m, a message recorded in the
	// store's outbox (a Recorder's): m is recorded in the same write as c, only if c is, and
	// the outbox then keeps its newest keep messages (keep <= 0: all), as AddMessage does.
	SaveCodeMessage(ctx context.Context, call *Call, c VerifyCode, notSentAfter time.Time, m Message, keep int) error

	// SetCodeStatus sets the delivery status of the code of that number sent at sentAt.
	// Returns ErrNotFound.
	SetCodeStatus(ctx context.Context, call *Call, custSpaceID, number string, sentAt time.Time, s DeliveryStatus) error

	// ChangeNumber runs change on the number's state (see NumberTxn) and writes back what it
	// changed, atomically: no other change of the same number, in any space, interleaves.
	// since bounds NumberTxn.Registrations. If change returns an error, nothing is written
	// and ChangeNumber returns that error. change may run more than once (a store may retry
	// a transaction that lost a race), so it must only compute from its argument. Returns
	// ErrNonceUsed, before change runs, when call's Nonce was recorded already.
	ChangeNumber(ctx context.Context, call *Call, custSpaceID, number string, since time.Time, change func(*NumberTxn) error) error

	// Audit returns audit records newest first: those the changes of ChangeNumber appended,
	// and one for each code SaveCode recorded (Action GetMigrationVerifyCode, Outcome OK,
	// Detail naming the method and the code's delivery status, never the code).
	Audit(ctx context.Context, q AuditQuery) ([]AuditRecord, error)

	// ApplySeed creates what the seed names and is missing, and updates keys, policies,
	// subscription and quotas; it never changes an existing number's status, codes or
	// verification.
	ApplySeed(ctx context.Context, s *Seed) error

	// Empty reports whether the store holds no account at all.
	Empty(ctx context.Context) (bool, error)

	// Ping reports whether the database answers.
	Ping(ctx context.Context) error

	Close() error
}

// NonceStore remembers signature nonces so that a signed request is accepted once.
type NonceStore interface {
	// Use records nonce for the AccessKey until expires, durably (see Store for call).
	// Returns ErrNonceUsed if it is recorded and not yet expired, and ErrNonceStoreFull if the
	// key already holds its maximum of live nonces (a live nonce is never evicted). A store
	// that keeps nonces where they may be forgotten may instead leave the durable record to
	// the call's first change of state (Call.Nonce).
	Use(ctx context.Context, call *Call, accessKeyID, nonce string, expires time.Time) error
}

// Decision is a flow-control verdict.
type Decision struct {
	Allowed    bool
	RetryAfter time.Duration // when refused: how long until a call would be admitted
	At         time.Time     // the limiter's clock when it decided
}

// Limiter is flow control: at most limit calls admitted for a key in any rolling second.
// Refused calls are not counted.
type Limiter interface {
	Allow(ctx context.Context, key string, limit int) (Decision, error)
}

// Provider delivers verification codes (the simulator, or WhatsApp's Cloud API).
type Provider interface {
	// SendCode delivers m for call (nil: on its own). An error means the code may not have
	// reached the number.
	SendCode(ctx context.Context, call *Call, m CodeMessage) error
}

// FreshNumbers is a Store whose PhoneNumber may answer from a cache that lags a change made
// through another replica (for at most a second, normally milliseconds): PhoneNumberNow reads
// the number's current record, for what must not act on, or show, a lagging one.
type FreshNumbers interface {
	PhoneNumberNow(ctx context.Context, custSpaceID, number string) (*PhoneNumber, error)
}

// A Tracker is a Store whose writers wait a moment for the writes of the calls still running
// (Running) before they make a group: Track counts call as running until call.End.
type Tracker interface {
	Track(call *Call)
}

// A Recorder is a Provider whose delivery is a message recorded in an Outbox (the
// simulator's). When that Outbox is the Store, a code it delivers is recorded with its
// message in one write (Store.SaveCodeMessage), as sent, instead of pending, then delivered,
// then marked sent: one commit where there were two, and no code without its message.
type Recorder interface {
	Provider
	// RecordsIn says whether the Recorder's messages are recorded in o.
	RecordsIn(o Outbox) bool
	// Record returns the message that delivers m and how many messages the outbox keeps
	// (AddMessage's keep).
	Record(m CodeMessage) (msg Message, keep int)
	// Recorded is told how recording msg ended: err is nil once msg is durable.
	Recorded(msg Message, err error)
}

// Outbox keeps the messages the simulated provider captured.
type Outbox interface {
	// AddMessage records m durably (see Store for call) and keeps only the newest keep
	// messages (keep <= 0: all).
	AddMessage(ctx context.Context, call *Call, m Message, keep int) error
	// Messages returns captured messages newest first, only those to phoneNumber when it is
	// not empty, at most limit (limit <= 0: all).
	Messages(ctx context.Context, phoneNumber string, limit int) ([]Message, error)
}

// TenantAdmin is what the admin API needs of a store beyond Store: creating and changing
// tenants goes through ApplySeed, numbers through ChangeNumber.
type TenantAdmin interface {
	// Tenants returns every account, or only uid's when uid is not empty, with everything it
	// owns (keys with their secrets, users with policies, spaces with numbers, pre-validated
	// numbers), ordered by uid, key id, user name and space id, numbers by number.
	Tenants(ctx context.Context, uid string) (*Seed, error)

	// DeleteKey deletes the AccessKey. Returns ErrNotFound.
	DeleteKey(ctx context.Context, accessKeyID string) error

	// Reseal seals, under the store's sealing master key, up to max of the values it keeps
	// sealed (AccessKey secrets, spaces' PINs, the STS signing key) that are not sealed with that key yet (plaintext,
	// or sealed with a previous key), in batches of its own, each committed before the next:
	// a master-key rotation, made while every replica serves. Returns ErrNoMasterKey when the
	// store has no master key.
	Reseal(ctx context.Context, max int) (Resealed, error)
}

// Resealed is what one Reseal did.
type Resealed struct {
	KeyID     string // the master key that seals (the first 8 hex digits of its SHA-256)
	Resealed  int    // values this call sealed with it
	Remaining int    // values not sealed with it yet, once this call was done
}

// Upstream is the WhatsApp Business platform behind the migration flow when camsd fronts it
// (Meta's Graph API). Without one, camsd is the whole platform: it makes the codes and the
// simulated Provider captures them. With one, the platform makes, sends and checks the codes
// and holds the numbers; camsd keeps its own records and rules in front of it. Errors that
// the caller should see are *Error values (for example VerifyCode.Invalid when the platform
// refused a code, ServiceUnavailable when it did not answer in time).
type Upstream interface {
	// AddNumber adds the number to the space's WABA, for migration or as a new number (see
	// NewNumber), and returns the platform's phone-number id.
	AddNumber(ctx context.Context, space Space, n NewNumber) (string, error)
	// RequestCode has the platform send a code to the number by method ("sms" or "voice") in
	// locale.
	RequestCode(ctx context.Context, phoneNumberID, method, locale string) error
	// VerifyCode checks code with the platform.
	VerifyCode(ctx context.Context, phoneNumberID, code string) error
	// Register registers the number on the space's WABA with the space's PIN.
	Register(ctx context.Context, space Space, phoneNumberID string) error
	// Deregister takes the number off WhatsApp; it stays in the space's WABA and can be
	// registered again. The platform counts it against the same limit as Register.
	Deregister(ctx context.Context, phoneNumberID string) error
}

// NewNumber is a number to add to a WABA (Upstream.AddNumber).
type NewNumber struct {
	// CountryCode is the calling code without "+", e.g. "86".
	CountryCode string
	// Number is the national number, without the country code.
	Number string
	// VerifiedName is the display name the platform reviews; required for a new number,
	// optional (and kept from the old WABA) for a migration.
	VerifiedName string
	// Migrate says the number moves here from another WABA (the migration flow) rather than
	// being new on WhatsApp.
	Migrate bool
}
