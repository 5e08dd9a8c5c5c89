package migration

import (
	"context"
	"fmt"

	"github.com/camsd/camsd"
)

// Operator is who acts through the admin API; it is recorded in the audit trail as the user
// "admin" of the space's account, with no AccessKey.
const Operator = "admin"

// AddNumber puts a number into a space with the given status (MIGRATING or CONNECTED), as an
// operator does to set up a tenant. The rules of the flow hold: a number is in a space once,
// MIGRATING in one space at a time and CONNECTED in one space at a time. An empty id gets a
// new one. It returns the number as recorded.
func (s *Service) AddNumber(ctx context.Context, space *camsd.Space, number, id string, status camsd.NumberStatus) (*camsd.PhoneNumber, error) {
	if err := checkPhoneNumber("PhoneNumber", number); err != nil {
		return nil, err
	}
	if status != camsd.StatusMigrating && status != camsd.StatusConnected {
		return nil, camsd.Errorf(camsd.CodeInvalidParameter, "A number is added MIGRATING or CONNECTED, not %q.", status)
	}
	if id != "" && !digits(id) {
		return nil, camsd.Errorf(camsd.CodeInvalidParameter, "A phone number id is digits, not %q.", id)
	}
	now := s.now()
	var txn *camsd.NumberTxn
	err := s.Store.ChangeNumber(ctx, nil, space.CustSpaceID, number, now, func(tx *camsd.NumberTxn) error {
		txn = tx
		for _, r := range tx.Records {
			switch {
			case r.CustSpaceID == space.CustSpaceID:
				return camsd.Errorf(camsd.CodePhoneNumberAlreadyExists, "The phone number %s is already in space %s (%s).", number, r.CustSpaceID, r.Status)
			case r.Status == status:
				return camsd.Errorf(camsd.CodePhoneNumberAlreadyExists, "The phone number %s is already %s in space %s.", number, status, r.CustSpaceID)
			}
		}
		rec := camsd.PhoneNumber{CustSpaceID: space.CustSpaceID, Number: number, ID: id, Status: status}
		if status == camsd.StatusMigrating {
			rec.InitiatedAt = now
		}
		tx.Records = append(tx.Records, rec)
		tx.Audit = append(tx.Audit, camsd.AuditRecord{
			At: now, Action: "AdminAddNumber", CustSpaceID: space.CustSpaceID, PhoneNumber: number,
			UID: space.UID, UserName: Operator, Outcome: camsd.CodeOK, Detail: fmt.Sprintf("added %s", status),
		})
		return nil
	})
	if err != nil {
		return nil, err
	}
	r := *txn.Record(space.CustSpaceID)
	return &r, nil
}
