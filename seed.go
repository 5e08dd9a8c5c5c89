package camsd

// Seed is the tenants a seed file declares (see package seed for the file format).
type Seed struct {
	Accounts []SeedAccount
}

// SeedAccount is one account of a seed with everything it owns.
type SeedAccount struct {
	Account
	AccessKeys []AccessKey // UID and UserName are filled in by the parser
	Users      []SeedUser
	Spaces     []SeedSpace

	// PreValidated are the numbers the account bought pre-validated (UID filled in by the
	// parser).
	PreValidated []PreValidatedNumber

	// Roles are the account's RAM roles (UID filled in by the parser).
	Roles []Role
}

// SeedUser is a RAM user with its keys and policy documents.
type SeedUser struct {
	Name       string
	AccessKeys []AccessKey
	Policies   []string
}

// SeedSpace is a space with its phone numbers.
type SeedSpace struct {
	Space
	PhoneNumbers []PhoneNumber
}
