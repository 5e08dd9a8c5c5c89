package httpapi

import (
	"context"

	"github.com/camsd/camsd/migration"
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
}

// KnownAction reports whether camsd serves the action.
func KnownAction(name string) bool {
	_, ok := actions[name]
	return ok
}
