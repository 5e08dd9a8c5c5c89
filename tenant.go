package camsd

import "slices"

// Account is an Alibaba Cloud account (a tenant of camsd), identified by its numeric UID.
type Account struct {
	UID        string
	Name       string
	Subscribed bool // false: every call answers Product.Unsubscript
	QPS        int  // per-account flow-control override; 0 means the server default
}

// KeyStatus is the state of an AccessKey.
type KeyStatus string

const (
	KeyActive   KeyStatus = "Active"
	KeyInactive KeyStatus = "Inactive"
)

// AccessKey is an AccessKey pair. UserName is empty for the account's own keys, which RAM
// never limits, and names the RAM user otherwise.
type AccessKey struct {
	ID       string
	Secret   string
	UID      string
	UserName string
	Status   KeyStatus
}

// User is a RAM user of an account with its identity policies (JSON documents).
type User struct {
	UID      string
	Name     string
	Policies []string
}

// Principal is who signed a request: the key, its account and, for a RAM user's key, the user;
// for STS temporary credentials, the key is the temporary one and Session says which role.
type Principal struct {
	Key     AccessKey
	Account Account
	User    *User    // nil when the account's own key or a role session signed
	Session *Session // nil unless STS temporary credentials signed
}

// Clone returns a copy of p that shares nothing mutable with it: what a store's cache hands
// out, so that a caller cannot change what it keeps.
func (p *Principal) Clone() *Principal {
	c := *p
	if p.User != nil {
		u := *p.User
		u.Policies = slices.Clone(u.Policies)
		c.User = &u
	}
	if p.Session != nil {
		s := *p.Session
		s.Role = *p.Session.Role.Clone()
		c.Session = &s
	}
	return &c
}

// Space is an ISV sub-customer's space (CustSpaceId), owned by one account.
type Space struct {
	CustSpaceID string
	UID         string
	Name        string

	// WabaID is the WhatsApp Business Account the space's numbers migrate into, and Pin the
	// 6-digit two-step verification PIN they are registered with; both are used only by
	// the WhatsApp (Graph API) provider.
	WabaID string
	Pin    string
}
