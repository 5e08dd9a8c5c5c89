package migration

import (
	"context"
	"crypto/subtle"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/camsd/camsd"
)

// The lifecycle of a new number: AddChatappPhoneNumber puts it into a space UNVERIFIED;
// GetChatappVerifyCode sends it codes by the rules GetMigrationVerifyCode follows;
// ChatappVerifyAndRegister checks a code by the rule ChatappMigrationVerified follows and
// registers the number (CONNECTED); ChatappPhoneNumberDeregister takes it off WhatsApp
// (DISCONNECTED) and ChatappPhoneNumberRegister puts it back, both under the registration
// limit of the migration flow. A pre-validated number (GetPreValidatePhoneId) is added
// VERIFIED and registers without a code.

// PhoneNumberItem is one number of QueryChatappPhoneNumbers' PhoneNumbers, with the fields
// of the SDK's model that camsd knows; the others are empty.
type PhoneNumberItem struct {
	PhoneNumber            string
	VerifiedName           string
	Status                 string
	CodeVerificationStatus string
	NameStatus             string
	QualityRating          string
	MessagingLimitTier     string
	StatusCallbackUrl      string //nolint:revive // wire name
	StatusQueue            string
	UpCallbackUrl          string //nolint:revive // wire name
	UpQueue                string
	IsOfficial             string
	NewNameStatus          string
}

// PreValidatedData is the Data of GetPreValidatePhoneId.
type PreValidatedData struct {
	PhoneNumber   string
	PhoneNumberId string //nolint:revive // wire name
}

// lifecycleCode is ChatappVerifyAndRegister's code check: the number must be UNVERIFIED.
var lifecycleCode = codeCheck{
	action: "ChatappVerifyAndRegister",
	sender: "GetChatappVerifyCode",
	state:  unverified,
}

// unverified refuses a number that is not UNVERIFIED, saying where it stands instead.
func unverified(n *camsd.PhoneNumber) error {
	switch n.Status {
	case camsd.StatusUnverified:
		return nil
	case camsd.StatusMigrating:
		return camsd.Errorf(camsd.CodePhoneNumberAlreadyExists, "The phone number %s is being migrated into this space: use GetMigrationVerifyCode and ChatappMigrationVerified.", n.Number)
	case camsd.StatusMigrated:
		return camsd.Errorf(camsd.CodePhoneNumberAlreadyExists, "The phone number %s has moved to another space.", n.Number)
	}
	return camsd.Errorf(camsd.CodePhoneNumberAlreadyVerified, "The phone number %s is already verified (status %s).", n.Number, n.Status)
}

// AddChatappPhoneNumber adds Cc+PhoneNumber to the space as UNVERIFIED with its display
// name; with PreValidateId (from GetPreValidatePhoneId), as VERIFIED under that id. A number
// is in one space at a time, except where it has left (MIGRATED), where it may be added
// again. With an Upstream the platform adds it and its id is the number's.
func (s *Service) AddChatappPhoneNumber(ctx context.Context, c Caller, p Params) error {
	if err := requirePresent(p, "CustSpaceId", "Cc", "PhoneNumber", "VerifiedName"); err != nil {
		return err
	}
	cc, national, name := p.Get("Cc"), p.Get("PhoneNumber"), strings.TrimSpace(p.Get("VerifiedName"))
	phone, err := joinNumber("Cc", cc, "PhoneNumber", national)
	if err != nil {
		return err
	}
	if problem := camsd.VerifiedNameProblem(name); problem != "" {
		return camsd.Errorf(camsd.CodeInvalidParameter, "The specified parameter \"VerifiedName\" is not valid: %s.", problem)
	}
	space, err := s.ownSpace(ctx, c, p)
	if err != nil {
		return err
	}
	var pre *camsd.PreValidatedNumber
	if id := p.Get("PreValidateId"); id != "" {
		if s.Upstream != nil {
			return camsd.Errorf(camsd.CodeInvalidParameter, "The specified parameter \"PreValidateId\" is not valid: pre-validated numbers are served by the simulator, not with the WhatsApp provider.")
		}
		if pre, err = s.preValidated(ctx, c, func(n camsd.PreValidatedNumber) bool { return n.ID == id }); err != nil {
			return err
		}
		if pre == nil || pre.Number != phone {
			return camsd.Errorf(camsd.CodeInvalidParameter, "The specified parameter \"PreValidateId\" is not valid: no pre-validated number %s has that id.", phone)
		}
	}
	now := s.now()
	rule := func(upstreamID string) func(tx *camsd.NumberTxn) error {
		return func(tx *camsd.NumberTxn) error {
			for _, r := range tx.Records {
				switch {
				case r.CustSpaceID == space.CustSpaceID && r.Status != camsd.StatusMigrated:
					return camsd.Errorf(camsd.CodePhoneNumberAlreadyExists, "The phone number %s is already in space %s (status %s).", phone, space.CustSpaceID, r.Status)
				case r.Status != camsd.StatusMigrated:
					return camsd.Errorf(camsd.CodePhoneNumberAlreadyExists, "The phone number %s is in another space.", phone)
				}
			}
			rec := camsd.PhoneNumber{
				CustSpaceID: space.CustSpaceID, Number: phone, ID: upstreamID, Status: camsd.StatusUnverified,
				InitiatedAt: now, VerifiedName: name,
			}
			detail := "UNVERIFIED, added"
			if pre != nil {
				rec.ID, rec.Status, rec.VerifiedAt = pre.ID, camsd.StatusVerified, now
				detail = "VERIFIED, added pre-validated"
			}
			// A number new to the space gets the store's new id; one that had left the space
			// comes back under its old one, as a migration does.
			if mine := tx.Record(space.CustSpaceID); mine != nil {
				if rec.ID == "" {
					rec.ID = mine.ID
				}
				*mine = rec
				detail += " again"
			} else {
				tx.Records = append(tx.Records, rec)
			}
			tx.Audit = append(tx.Audit, c.audit(now, "AddChatappPhoneNumber", space.CustSpaceID, phone, camsd.CodeOK, detail))
			return nil
		}
	}
	upstreamID := ""
	if s.Upstream != nil {
		if err := s.peek(ctx, space.CustSpaceID, phone, now, rule("")); err != nil {
			return err
		}
		err := s.callUpstream(ctx, c, "AddChatappPhoneNumber", space.CustSpaceID, phone, "phone_numbers", func(ctx context.Context) error {
			id, err := s.Upstream.AddNumber(ctx, *space, camsd.NewNumber{CountryCode: cc, Number: national, VerifiedName: name})
			upstreamID = id
			return err
		})
		if err != nil {
			return err
		}
	}
	return s.Store.ChangeNumber(ctx, c.Call, space.CustSpaceID, phone, now, rule(upstreamID))
}

// GetChatappVerifyCode sends a new code to an UNVERIFIED number of the space, by the rules
// of GetMigrationVerifyCode (resend interval, expiry, the simulator's outbox or the
// platform's request_code).
func (s *Service) GetChatappVerifyCode(ctx context.Context, c Caller, p Params) error {
	_, err := s.sendCode(ctx, c, p, unverified)
	return err
}

// ChatappVerifyAndRegister checks VerifyCode against the latest code sent to the UNVERIFIED
// number, by ChatappMigrationVerified's rule and with its refusals, and when it is right
// registers the number (CONNECTED). With an Upstream the platform checks the code, then
// registers the number; a number whose code the platform accepted but whose registration
// failed stays VERIFIED, for ChatappPhoneNumberRegister to finish.
func (s *Service) ChatappVerifyAndRegister(ctx context.Context, c Caller, p Params) error {
	space, phone, given, err := s.codeCall(ctx, c, p)
	if err != nil {
		return err
	}
	now := s.now()
	since := s.registeredSince(now)
	// rule checks the code (right says whether it is the code's) and, when register, registers
	// the number it verified; else leaves it VERIFIED.
	rule := func(right func(*camsd.VerifyCode) bool, register bool) (func(*camsd.NumberTxn) error, *verdict) {
		v := &verdict{}
		return func(tx *camsd.NumberTxn) error {
			if err := s.checkCode(tx, c, lifecycleCode, space.CustSpaceID, phone, now, right, v); err != nil || v.wrong != nil {
				return err
			}
			if !register {
				tx.Record(space.CustSpaceID).Status = camsd.StatusVerified
				return nil
			}
			return s.register(tx, c, "ChatappVerifyAndRegister", space.CustSpaceID, phone, now, true)
		}, v
	}
	if s.Upstream == nil {
		change, v := rule(func(code *camsd.VerifyCode) bool {
			return subtle.ConstantTimeCompare([]byte(given), []byte(code.Code)) == 1
		}, true)
		if err := s.Store.ChangeNumber(ctx, c.Call, space.CustSpaceID, phone, since, change); err != nil {
			return err
		}
		_, err := v.result()
		return err
	}

	// The platform checks the code, then registers the number: camsd's own refusals first,
	// then the platform's word on the code, then on the registration, then the change.
	peekRule, _ := rule(func(*camsd.VerifyCode) bool { return true }, true)
	id, accepted, err := s.platformVerifies(ctx, c, "ChatappVerifyAndRegister", space.CustSpaceID, phone, given, since, peekRule)
	if err != nil {
		return err
	}
	var regErr error
	if accepted {
		regErr = s.callUpstream(ctx, c, "ChatappVerifyAndRegister", space.CustSpaceID, phone, "register", func(ctx context.Context) error {
			return s.Upstream.Register(ctx, *space, id)
		})
	}
	change, v := rule(func(*camsd.VerifyCode) bool { return accepted }, regErr == nil)
	if err := s.Store.ChangeNumber(ctx, c.Call, space.CustSpaceID, phone, since, change); err != nil {
		return err
	}
	if regErr != nil {
		return regErr
	}
	_, err = v.result()
	return err
}

// ChatappPhoneNumberRegister registers a number of the space that was verified or
// registered here before (VERIFIED, DISCONNECTED, or CONNECTED again), or a migrating number
// with a valid verification; see register for the rule and its refusals.
func (s *Service) ChatappPhoneNumberRegister(ctx context.Context, c Caller, p Params) error {
	space, phone, err := s.numberCall(ctx, c, p)
	if err != nil {
		return err
	}
	now := s.now()
	rule := func(tx *camsd.NumberTxn) error {
		return s.register(tx, c, "ChatappPhoneNumberRegister", space.CustSpaceID, phone, now, true)
	}
	return s.change(ctx, c, "ChatappPhoneNumberRegister", space.CustSpaceID, phone, s.registeredSince(now), rule, "register", func(ctx context.Context, id string) error {
		return s.Upstream.Register(ctx, *space, id)
	})
}

// ChatappPhoneNumberDeregister takes a CONNECTED number of the space off WhatsApp: it
// becomes DISCONNECTED and keeps its verification. A deregistration counts toward the
// registration limit, as Meta counts both. Refusals in order: PhoneNumber.NotFound,
// PhoneNumber.NotRegistered, PhoneNumber.RegisterTooFrequent.
func (s *Service) ChatappPhoneNumberDeregister(ctx context.Context, c Caller, p Params) error {
	space, phone, err := s.numberCall(ctx, c, p)
	if err != nil {
		return err
	}
	now := s.now()
	rule := func(tx *camsd.NumberTxn) error {
		mine := tx.Record(space.CustSpaceID)
		if mine == nil {
			return notFound(phone, space.CustSpaceID)
		}
		if mine.Status != camsd.StatusConnected {
			return camsd.Errorf(camsd.CodePhoneNumberNotRegistered, "The phone number %s is not registered in space %s (status %s).", phone, space.CustSpaceID, mine.Status)
		}
		if err := s.underLimit(tx, phone, now); err != nil {
			return err
		}
		mine.Status = camsd.StatusDisconnected
		tx.Register = now
		tx.Audit = append(tx.Audit, c.audit(now, "ChatappPhoneNumberDeregister", space.CustSpaceID, phone, camsd.CodeOK, "DISCONNECTED"))
		return nil
	}
	return s.change(ctx, c, "ChatappPhoneNumberDeregister", space.CustSpaceID, phone, s.registeredSince(now), rule, "deregister", func(ctx context.Context, id string) error {
		return s.Upstream.Deregister(ctx, id)
	})
}

// QueryChatappPhoneNumbers lists the space's numbers, migrated ones included, only those
// with Status when it is given (any case). IsvCode is taken and not checked: camsd has no
// ISV authorisations to check it against.
func (s *Service) QueryChatappPhoneNumbers(ctx context.Context, c Caller, p Params) ([]PhoneNumberItem, error) {
	if err := requirePresent(p, "CustSpaceId"); err != nil {
		return nil, err
	}
	want := camsd.NumberStatus(strings.ToUpper(strings.TrimSpace(p.Get("Status"))))
	if want != "" && !slices.Contains(camsd.NumberStatuses, want) {
		return nil, camsd.Errorf(camsd.CodeInvalidParameter, "The specified parameter \"Status\" is not valid: %q; valid values are %s.", p.Get("Status"), statusList())
	}
	space, err := s.ownSpace(ctx, c, p)
	if err != nil {
		return nil, err
	}
	nums, err := s.Store.Numbers(ctx, space.CustSpaceID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	items := []PhoneNumberItem{}
	for i := range nums {
		n := &nums[i]
		if want != "" && n.Status != want {
			continue
		}
		items = append(items, s.item(n, now))
	}
	return items, nil
}

// item is how QueryChatappPhoneNumbers shows n: what camsd keeps, and for what it does not
// (Meta's review of the name, the number's quality and messaging tier) the values a new
// number has on WhatsApp: the name APPROVED once the number is registered, quality
// UNKNOWN until it is CONNECTED and GREEN then, the first tier once CONNECTED.
func (s *Service) item(n *camsd.PhoneNumber, now time.Time) PhoneNumberItem {
	it := PhoneNumberItem{
		PhoneNumber: n.Number, VerifiedName: n.VerifiedName, Status: string(n.Status),
		CodeVerificationStatus: s.verification(n, now), NameStatus: "PENDING_REVIEW", QualityRating: "UNKNOWN",
		IsOfficial: "false",
	}
	switch n.Status {
	case camsd.StatusConnected:
		it.NameStatus, it.QualityRating, it.MessagingLimitTier = "APPROVED", "GREEN", "TIER_250"
	case camsd.StatusDisconnected:
		it.NameStatus = "APPROVED"
	}
	return it
}

func statusList() string {
	names := make([]string, len(camsd.NumberStatuses))
	for i, s := range camsd.NumberStatuses {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// GetPreValidatePhoneId trades a pre-validated number of the caller's account and the code
// it was bought with for the id AddChatappPhoneNumber takes as PreValidateId. Refusals:
// PhoneNumber.NotFound (the account has no such pre-validated number), VerifyCode.Invalid.
func (s *Service) GetPreValidatePhoneId(ctx context.Context, c Caller, p Params) (*PreValidatedData, error) { //nolint:revive // the action's name
	if err := requirePresent(p, "PhoneNumber", "VerifyCode"); err != nil {
		return nil, err
	}
	phone, given := p.Get("PhoneNumber"), p.Get("VerifyCode")
	if err := checkPhoneNumber("PhoneNumber", phone); err != nil {
		return nil, err
	}
	if !sixDigits(given) {
		return nil, errCodeShape
	}
	if ro := p.Get("ResourceOwnerId"); ro != "" && ro != c.Principal.Account.UID {
		return nil, errNotOwner
	}
	pre, err := s.preValidated(ctx, c, func(n camsd.PreValidatedNumber) bool { return n.Number == phone })
	if err != nil {
		return nil, err
	}
	if pre == nil {
		return nil, camsd.Errorf(camsd.CodePhoneNumberNotFound, "The phone number %s is not a pre-validated number of this account.", phone)
	}
	if subtle.ConstantTimeCompare([]byte(given), []byte(pre.VerifyCode)) != 1 {
		return nil, camsd.Errorf(camsd.CodeVerifyCodeInvalid, "The verification code is incorrect for pre-validated number %s.", phone)
	}
	return &PreValidatedData{PhoneNumber: phone, PhoneNumberId: pre.ID}, nil
}

// preValidated returns the caller's account's pre-validated number that match says, or nil.
func (s *Service) preValidated(ctx context.Context, c Caller, match func(camsd.PreValidatedNumber) bool) (*camsd.PreValidatedNumber, error) {
	all, err := s.Store.PreValidated(ctx, c.Principal.Account.UID)
	if err != nil {
		return nil, fmt.Errorf("pre-validated numbers: %w", err)
	}
	for i := range all {
		if match(all[i]) {
			return &all[i], nil
		}
	}
	return nil, nil
}

// numberCall checks the parameters every action on one number of a space takes
// (CustSpaceId, PhoneNumber) and the space's ownership.
func (s *Service) numberCall(ctx context.Context, c Caller, p Params) (*camsd.Space, string, error) {
	if err := requirePresent(p, "CustSpaceId", "PhoneNumber"); err != nil {
		return nil, "", err
	}
	phone := p.Get("PhoneNumber")
	if err := checkPhoneNumber("PhoneNumber", phone); err != nil {
		return nil, "", err
	}
	space, err := s.ownSpace(ctx, c, p)
	return space, phone, err
}

// codeCall is numberCall for the actions that check a code, which take VerifyCode too: the
// presence of all three first, then the values, then ownership. It returns the code given.
func (s *Service) codeCall(ctx context.Context, c Caller, p Params) (*camsd.Space, string, string, error) {
	if err := requirePresent(p, "CustSpaceId", "PhoneNumber", "VerifyCode"); err != nil {
		return nil, "", "", err
	}
	phone, given := p.Get("PhoneNumber"), p.Get("VerifyCode")
	if err := checkPhoneNumber("PhoneNumber", phone); err != nil {
		return nil, "", "", err
	}
	if !sixDigits(given) {
		return nil, "", "", errCodeShape
	}
	space, err := s.ownSpace(ctx, c, p)
	return space, phone, given, err
}
