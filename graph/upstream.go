package graph

import (
	"context"
	"fmt"

	"github.com/camsd/camsd"
)

// Upstream is camsd's Upstream on the Graph API: each call is one Client call, and each
// error comes back as the wire error WireError maps it to.
type Upstream struct {
	Client *Client
}

var _ camsd.Upstream = (*Upstream)(nil)

// AddNumber adds the number to the space's WABA, with migrate_phone_number=true for a
// migration.
func (u *Upstream) AddNumber(ctx context.Context, space camsd.Space, n camsd.NewNumber) (string, error) {
	if space.WabaID == "" {
		return "", fmt.Errorf("space %s has no WABA id: set it (seed waba_id, or camsd admin space whatsapp) to use the WhatsApp provider", space.CustSpaceID)
	}
	id, err := u.Client.AddPhoneNumber(ctx, space.WabaID, n)
	return id, wire(err)
}

// RequestCode asks Graph to send a code; Graph takes SMS or VOICE and a language code.
func (u *Upstream) RequestCode(ctx context.Context, phoneNumberID, method, locale string) error {
	return wire(u.Client.RequestCode(ctx, phoneNumberID, method, locale))
}

// VerifyCode checks the code with Graph.
func (u *Upstream) VerifyCode(ctx context.Context, phoneNumberID, code string) error {
	return wire(u.Client.VerifyCode(ctx, phoneNumberID, code))
}

// Register registers the number with the space's PIN.
func (u *Upstream) Register(ctx context.Context, space camsd.Space, phoneNumberID string) error {
	if len(space.Pin) != 6 {
		return fmt.Errorf("space %s has no 6-digit registration PIN: set it (seed pin, or camsd admin space whatsapp) to use the WhatsApp provider", space.CustSpaceID)
	}
	return wire(u.Client.Register(ctx, phoneNumberID, space.Pin))
}

// Deregister takes the number off WhatsApp.
func (u *Upstream) Deregister(ctx context.Context, phoneNumberID string) error {
	return wire(u.Client.Deregister(ctx, phoneNumberID))
}

// wire turns a Client error into the error callers see; nil stays an untyped nil.
func wire(err error) error {
	if err == nil {
		return nil
	}
	if e := WireError(err); e != nil {
		return e
	}
	return err
}
