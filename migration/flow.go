package migration

import (
	"context"
	"crypto/subtle"
	"fmt"
	"time"

	"github.com/camsd/camsd"
)

// The actions of the migration flow besides GetMigrationVerifyCode. Each checks its
// parameters, then ownership of the space, then runs its rule inside Store.ChangeNumber, so
// that the rule sees and changes the number's state with no other change in between.

// InitiateData is the Data of CreateChatappMigrationInitiate.
type InitiateData struct {
	PhoneNumber string
	Id          string //nolint:revive // wire name
	Status      string
}

// StatusData is the Data of GetPhoneNumberVerificationStatus.
type StatusData struct {
	PhoneNumber            string
	Id                     string //nolint:revive // wire name
	CodeVerificationStatus string
}

// Code verification statuses, as Meta names them.
const (
	NotVerified = "NOT_VERIFIED"
	Verified    = "VERIFIED"
	Expired     = "EXPIRED"
)

// CreateChatappMigrationInitiate puts CountryCode+MobileNumber into the space as MIGRATING.
// A number migrates into one space at a time; it may come from a space where it is
// CONNECTED, which it leaves when it registers here.
func (s *Service) CreateChatappMigrationInitiate(ctx context.Context, c Caller, p Params) (*InitiateData, error) {
	if err := requirePresent(p, "CustSpaceId", "CountryCode", "MobileNumber"); err != nil {
		return nil, err
	}
	phone, err := joinNumber("CountryCode", p.Get("CountryCode"), "MobileNumber", p.Get("MobileNumber"))
	if err != nil {
		return nil, err
	}
	space, err := s.ownSpace(ctx, c, p)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var txn *camsd.NumberTxn
	// rule puts the number into the space; upstreamID, when not empty, is the platform's id.
	rule := func(upstreamID string) func(tx *camsd.NumberTxn) error {
		return func(tx *camsd.NumberTxn) error {
			txn = tx
			mine := tx.Record(space.CustSpaceID)
			for _, r := range tx.Records {
				if r.CustSpaceID != space.CustSpaceID && r.Status == camsd.StatusMigrating {
					return camsd.Errorf(camsd.CodePhoneNumberAlreadyExists, "The phone number %s is being migrated into another space.", phone)
				}
			}
			detail := "MIGRATING, new in the space"
			switch {
			case mine == nil:
				tx.Records = append(tx.Records, camsd.PhoneNumber{
					CustSpaceID: space.CustSpaceID, Number: phone, ID: upstreamID, Status: camsd.StatusMigrating, InitiatedAt: now,
				})
			case mine.Status == camsd.StatusMigrating:
				return nil // asked again: the same migration, the same id
			case mine.Status == camsd.StatusConnected:
				return camsd.Errorf(camsd.CodePhoneNumberAlreadyExists, "The phone number %s is already registered in space %s.", phone, space.CustSpaceID)
			default: // MIGRATED: it left this space; it may come back.
				detail = fmt.Sprintf("MIGRATING again, was %s", mine.Status)
				mine.Status, mine.InitiatedAt, mine.VerifiedAt = camsd.StatusMigrating, now, time.Time{}
				if upstreamID != "" {
					mine.ID = upstreamID
				}
			}
			tx.Audit = append(tx.Audit, c.audit(now, "CreateChatappMigrationInitiate", space.CustSpaceID, phone, camsd.CodeOK, detail))
			return nil
		}
	}
	upstreamID := ""
	if s.Upstream != nil {
		// The platform is asked only for a migration that starts here, after camsd's own
		// refusals; its phone-number id becomes the number's Id.
		starts := false
		err := s.peek(ctx, space.CustSpaceID, phone, now, func(tx *camsd.NumberTxn) error {
			mine := tx.Record(space.CustSpaceID)
			starts = mine == nil || mine.Status != camsd.StatusMigrating
			return rule("")(tx)
		})
		if err != nil {
			return nil, err
		}
		if starts {
			err := s.callUpstream(ctx, c, "CreateChatappMigrationInitiate", space.CustSpaceID, phone, "phone_numbers", func(ctx context.Context) error {
				id, err := s.Upstream.AddNumber(ctx, *space, camsd.NewNumber{CountryCode: p.Get("CountryCode"), Number: p.Get("MobileNumber"), Migrate: true})
				upstreamID = id
				return err
			})
			if err != nil {
				return nil, err
			}
		}
	}
	if err := s.Store.ChangeNumber(ctx, c.Call, space.CustSpaceID, phone, now, rule(upstreamID)); err != nil {
		return nil, err
	}
	// A record added without an id has the store's new one by now.
	id := txn.Record(space.CustSpaceID).ID
	return &InitiateData{PhoneNumber: phone, Id: id, Status: string(camsd.StatusMigrating)}, nil
}

// GetPhoneNumberVerificationStatus tells whether the number's verification in the space is
// valid, has expired, or was never made (or ended when the number left the space).
func (s *Service) GetPhoneNumberVerificationStatus(ctx context.Context, c Caller, p Params) (*StatusData, error) {
	space, phone, err := s.numberCall(ctx, c, p)
	if err != nil {
		return nil, err
	}
	// The current record: a caller that verified through another replica a moment ago reads
	// its verification back.
	num, err := s.currentNumber(ctx, space.CustSpaceID, phone)
	if err != nil {
		return nil, err
	}
	return &StatusData{PhoneNumber: phone, Id: num.ID, CodeVerificationStatus: s.verification(num, s.now())}, nil
}

// verification is the number's code verification status at now.
func (s *Service) verification(n *camsd.PhoneNumber, now time.Time) string {
	switch {
	case n.VerifiedAt.IsZero():
		return NotVerified
	case now.Before(n.VerifiedAt.Add(s.validity())):
		return Verified
	default:
		return Expired
	}
}

// ChatappMigrationVerified checks VerifyCode against the latest code sent to the number.
// Refusals in order: PhoneNumber.NotFound, PhoneNumber.NotMigrating, VerifyCode.NotFound
// (none sent in this migration, or already used), VerifyCode.AttemptsExceeded,
// VerifyCode.Expired, VerifyCode.Invalid. A wrong value counts as a try, the one that
// reaches the limit included (it still answers Invalid); a new code starts the count again.
func (s *Service) ChatappMigrationVerified(ctx context.Context, c Caller, p Params) (*NumberData, error) {
	space, phone, given, err := s.codeCall(ctx, c, p)
	if err != nil {
		return nil, err
	}
	now := s.now()
	rule := func(right func(*camsd.VerifyCode) bool) (func(*camsd.NumberTxn) error, *verdict) {
		v := &verdict{}
		return func(tx *camsd.NumberTxn) error {
			return s.checkCode(tx, c, migrationCode, space.CustSpaceID, phone, now, right, v)
		}, v
	}
	if s.Upstream == nil {
		change, v := rule(func(code *camsd.VerifyCode) bool {
			return subtle.ConstantTimeCompare([]byte(given), []byte(code.Code)) == 1
		})
		if err := s.Store.ChangeNumber(ctx, c.Call, space.CustSpaceID, phone, now, change); err != nil {
			return nil, err
		}
		return v.result()
	}

	// The platform checks the code: first camsd's own refusals, then the platform's word,
	// then the change, whose rule runs again and may still refuse (a concurrent call spent
	// the code meanwhile).
	peekRule, _ := rule(func(*camsd.VerifyCode) bool { return true })
	_, accepted, err := s.platformVerifies(ctx, c, "ChatappMigrationVerified", space.CustSpaceID, phone, given, now, peekRule)
	if err != nil {
		return nil, err
	}
	change, v := rule(func(*camsd.VerifyCode) bool { return accepted })
	if err := s.Store.ChangeNumber(ctx, c.Call, space.CustSpaceID, phone, now, change); err != nil {
		return nil, err
	}
	return v.result()
}

// verdict is what checkCode decided.
type verdict struct {
	data  *NumberData
	wrong error // a refusal that is also a change: the try is counted
}

func (v *verdict) result() (*NumberData, error) {
	if v.wrong != nil {
		return nil, v.wrong
	}
	return v.data, nil
}

// codeCheck is what an action that checks a code needs of the number, and how it names
// itself: ChatappMigrationVerified and ChatappVerifyAndRegister check codes by one rule.
type codeCheck struct {
	action string                         // the audit trail's action
	sender string                         // the action that sends the codes
	state  func(*camsd.PhoneNumber) error // the number's state the action needs
}

var migrationCode = codeCheck{
	action: "ChatappMigrationVerified",
	sender: "GetMigrationVerifyCode",
	state: func(n *camsd.PhoneNumber) error {
		if n.Status != camsd.StatusMigrating {
			return notMigrating(n.Number, n.Status)
		}
		return nil
	},
}

// checkCode is the rule that checks a code: right says whether the value given is the
// code's. A right code is spent and the number verified now; a wrong one is a try counted
// (v.wrong), which is a change too.
func (s *Service) checkCode(tx *camsd.NumberTxn, c Caller, k codeCheck, space, phone string, now time.Time, right func(*camsd.VerifyCode) bool, v *verdict) error {
	max := s.maxAttempts()
	mine := tx.Record(space)
	if mine == nil {
		return notFound(phone, space)
	}
	if err := k.state(mine); err != nil {
		return err
	}
	code := tx.LastCode
	if code == nil || code.SentAt.Before(mine.InitiatedAt) || !code.UsedAt.IsZero() {
		return camsd.Errorf(camsd.CodeVerifyCodeNotFound, "No verification code is waiting to be checked for %s: request one with %s.", phone, k.sender)
	}
	if code.Attempts >= max {
		return camsd.Errorf(camsd.CodeVerifyCodeAttemptsExceeded, "The verification code for %s was entered wrong %d times; request a new one.", phone, code.Attempts)
	}
	if !now.Before(code.ExpiresAt) {
		return camsd.Errorf(camsd.CodeVerifyCodeExpired, "The verification code for %s expired at %s; request a new one.", phone, code.ExpiresAt.Format(time.RFC3339))
	}
	if !right(code) {
		code.Attempts++
		v.wrong = camsd.Errorf(camsd.CodeVerifyCodeInvalid, "The verification code is incorrect (%d of %d tries used).", code.Attempts, max)
		tx.Audit = append(tx.Audit, c.audit(now, k.action, space, phone, camsd.CodeVerifyCodeInvalid,
			fmt.Sprintf("wrong code, try %d of %d", code.Attempts, max)))
		return nil
	}
	code.UsedAt = now
	mine.VerifiedAt = now
	tx.Audit = append(tx.Audit, c.audit(now, k.action, space, phone, camsd.CodeOK,
		"VERIFIED until "+now.Add(s.validity()).Format(time.RFC3339)))
	v.data = &NumberData{PhoneNumber: phone, Id: mine.ID}
	return nil
}

// ChatappMigrationRegister registers a verified number on the space's WABA: it becomes
// CONNECTED here, and leaves (MIGRATED) any other space where it was CONNECTED. Registering
// again while the verification is valid is allowed, RegisterLimit times per RegisterWindow
// per number. Refusals in order: PhoneNumber.NotFound, PhoneNumber.NotVerified,
// PhoneNumber.RegisterTooFrequent.
func (s *Service) ChatappMigrationRegister(ctx context.Context, c Caller, p Params) error {
	space, phone, err := s.numberCall(ctx, c, p)
	if err != nil {
		return err
	}
	now := s.now()
	since := s.registeredSince(now)
	rule := func(tx *camsd.NumberTxn) error {
		return s.register(tx, c, "ChatappMigrationRegister", space.CustSpaceID, phone, now, false)
	}
	return s.change(ctx, c, "ChatappMigrationRegister", space.CustSpaceID, phone, since, rule, "register", func(ctx context.Context, id string) error {
		return s.Upstream.Register(ctx, *space, id)
	})
}

// registeredSince is the since to give ChangeNumber for a rule that counts registrations: a
// registration counts while now is before it plus the window.
func (s *Service) registeredSince(now time.Time) time.Time {
	_, window := s.registerLimit()
	return now.Add(-window + time.Nanosecond)
}

// register is the rule that registers a number in space: it becomes CONNECTED there, and
// leaves (MIGRATED) any other space where it was CONNECTED. The number needs a valid
// verification in the space; with registered (the lifecycle's ChatappPhoneNumberRegister),
// a number verified or registered here before (VERIFIED, CONNECTED, DISCONNECTED) needs
// none, for the platform remembers it. Registering again is allowed, but registrations and
// deregistrations together are limited to RegisterLimit per RegisterWindow per number
// (tx.Registrations, read since registeredSince). Refusals in order: PhoneNumber.NotFound,
// PhoneNumber.NotVerified, PhoneNumber.RegisterTooFrequent.
func (s *Service) register(tx *camsd.NumberTxn, c Caller, action, space, phone string, now time.Time, registered bool) error {
	mine := tx.Record(space)
	if mine == nil {
		return notFound(phone, space)
	}
	known := registered && (mine.Status == camsd.StatusVerified || mine.Status == camsd.StatusConnected || mine.Status == camsd.StatusDisconnected)
	if !known && (mine.Status == camsd.StatusMigrated || s.verification(mine, now) != Verified) {
		return camsd.Errorf(camsd.CodePhoneNumberNotVerified, "The phone number %s has no valid verification in space %s: verify a code first.", phone, space)
	}
	if err := s.underLimit(tx, phone, now); err != nil {
		return err
	}
	detail := "CONNECTED"
	if mine.Status == camsd.StatusConnected {
		detail = "CONNECTED, registered again"
	}
	for i := range tx.Records {
		r := &tx.Records[i]
		if r.CustSpaceID != space && r.Status == camsd.StatusConnected {
			r.Status, r.VerifiedAt = camsd.StatusMigrated, time.Time{}
			detail += "; moved out of " + r.CustSpaceID
			tx.Audit = append(tx.Audit, c.audit(now, action, r.CustSpaceID, phone, camsd.CodeOK, "MIGRATED to "+space))
		}
	}
	mine.Status = camsd.StatusConnected
	tx.Register = now
	tx.Audit = append(tx.Audit, c.audit(now, action, space, phone, camsd.CodeOK, detail))
	return nil
}

// underLimit refuses a registration or deregistration of the number beyond the limit.
func (s *Service) underLimit(tx *camsd.NumberTxn, phone string, now time.Time) error {
	limit, window := s.registerLimit()
	if len(tx.Registrations) < limit {
		return nil
	}
	e := camsd.Errorf(camsd.CodePhoneNumberRegisterTooFreq, "The phone number %s was registered or deregistered %d times in the last %s.", phone, len(tx.Registrations), window)
	e.RetryAfter = tx.Registrations[len(tx.Registrations)-limit].Add(window).Sub(now)
	return e
}
