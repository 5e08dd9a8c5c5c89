package httpapi

import (
	"context"

	"github.com/camsd/camsd/migration"
	"github.com/camsd/camsd/sts"
)

// action runs one API action and returns the Data of its reply (nil: no Data).
type action func(s *Server, ctx context.Context, c migration.Caller, p migration.Params) (any, error)

// actions is the action table: RPC-style APIs name the operation in x-acs-action or Action=,
// not in the path. Each action is also a RAM action "cams:<name>".
var actions = map[string]action{
	"CreateChatappMigrationInitiate": func(s *Server, ctx context.Context, c migration.Caller, p migration.Params) (any, error) {
		return s.Migration.CreateChatappMigrationInitiate(ctx, c, p)
	},
	"GetPhoneNumberVerificationStatus": func(s *Server, ctx context.Context, c migration.Caller, p migration.Params) (any, error) {
		return s.Migration.GetPhoneNumberVerificationStatus(ctx, c, p)
	},
	"GetMigrationVerifyCode": func(s *Server, ctx context.Context, c migration.Caller, p migration.Params) (any, error) {
		return s.Migration.GetMigrationVerifyCode(ctx, c, p)
	},
	"ChatappMigrationVerified": func(s *Server, ctx context.Context, c migration.Caller, p migration.Params) (any, error) {
		return s.Migration.ChatappMigrationVerified(ctx, c, p)
	},
	// The register reply has no Data.
	"ChatappMigrationRegister": func(s *Server, ctx context.Context, c migration.Caller, p migration.Params) (any, error) {
		return nil, s.Migration.ChatappMigrationRegister(ctx, c, p)
	},

	// A new number's lifecycle. Replies as the SDK's models have them: Success and no Data,
	// the numbers at the top level, Deregister's envelope alone.
	"AddChatappPhoneNumber": func(s *Server, ctx context.Context, c migration.Caller, p migration.Params) (any, error) {
		return succeeded{}, s.Migration.AddChatappPhoneNumber(ctx, c, p)
	},
	"GetChatappVerifyCode": func(s *Server, ctx context.Context, c migration.Caller, p migration.Params) (any, error) {
		return succeeded{}, s.Migration.GetChatappVerifyCode(ctx, c, p)
	},
	"ChatappVerifyAndRegister": func(s *Server, ctx context.Context, c migration.Caller, p migration.Params) (any, error) {
		return succeeded{}, s.Migration.ChatappVerifyAndRegister(ctx, c, p)
	},
	"ChatappPhoneNumberRegister": func(s *Server, ctx context.Context, c migration.Caller, p migration.Params) (any, error) {
		return succeeded{}, s.Migration.ChatappPhoneNumberRegister(ctx, c, p)
	},
	"ChatappPhoneNumberDeregister": func(s *Server, ctx context.Context, c migration.Caller, p migration.Params) (any, error) {
		return nil, s.Migration.ChatappPhoneNumberDeregister(ctx, c, p)
	},
	"QueryChatappPhoneNumbers": func(s *Server, ctx context.Context, c migration.Caller, p migration.Params) (any, error) {
		nums, err := s.Migration.QueryChatappPhoneNumbers(ctx, c, p)
		return phoneNumbers(nums), err
	},
	"GetPreValidatePhoneId": func(s *Server, ctx context.Context, c migration.Caller, p migration.Params) (any, error) {
		return s.Migration.GetPreValidatePhoneId(ctx, c, p)
	},
}

// succeeded is the result of an action whose reply says Success: true and has no Data.
type succeeded struct{}

// phoneNumbers is QueryChatappPhoneNumbers' result: a reply with Success and the numbers
// at the top level, beside Code.
type phoneNumbers []migration.PhoneNumberItem

// KnownAction reports whether camsd serves the action in the API version: the action table
// in CAMS's Version, AssumeRole in STS's (sts.Version), which clients reach on the same
// endpoint when they point their STS endpoint at camsd.
func KnownAction(version, name string) bool {
	switch version {
	case Version:
		_, ok := actions[name]
		return ok
	case sts.Version:
		return name == actionAssumeRole
	}
	return false
}

// Versions returns the API versions camsd serves: CAMS's and STS's.
func Versions() map[string]bool { return map[string]bool{Version: true, sts.Version: true} }

const actionAssumeRole = "AssumeRole"
