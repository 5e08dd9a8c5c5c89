package camsd

// Wire codes. The HTTP status and default message of each are in package acs (catalog.go),
// which has a test that every code here is catalogued.
const (
	CodeOK = "OK"

	// Protocol and gateway.
	CodeInvalidVersion              = "InvalidVersion"
	CodeInvalidActionNotFound       = "InvalidAction.NotFound"
	CodeIncompleteSignature         = "IncompleteSignature"
	CodeInvalidSignatureMethod      = "InvalidSignatureMethod"
	CodeInvalidTimeStampFormat      = "InvalidTimeStamp.Format"
	CodeInvalidTimeStampExpired     = "InvalidTimeStamp.Expired"
	CodeInvalidAccessKeyIDNotFound  = "InvalidAccessKeyId.NotFound"
	CodeInvalidAccessKeyIDInactive  = "InvalidAccessKeyId.Inactive"
	CodeSignatureDoesNotMatch       = "SignatureDoesNotMatch"
	CodeSignatureNonceUsed          = "SignatureNonceUsed"
	CodeInvalidParameterFormat      = "InvalidParameter.Format"
	CodeUnsupportedHTTPMethod       = "UnsupportedHTTPMethod"
	CodeInternalError               = "InternalError"
	CodeServiceUnavailable          = "ServiceUnavailable"
	CodeSystemLimitControl          = "System.LimitControl"
	CodeProductUnsubscript          = "Product.Unsubscript"
	CodeRAMPermissionDeny           = "Ram.PermissionDeny"
	CodeUnknownResourceOwnerID      = "Unknown.ResourceOwnerId"
	CodeInvalidParameter            = "InvalidParameter"
	CodeInvalidParameterPhoneNumber = "InvalidParameter.PhoneNumberError"
	CodeInvalidParameterLanguage    = "InvalidParameter.LanguageNotSupport"

	// STS: AssumeRole and the temporary credentials it issues (see package sts for why each).
	CodeMissingSecurityToken            = "MissingSecurityToken"
	CodeInvalidSecurityTokenExpired     = "InvalidSecurityToken.Expired"
	CodeInvalidSecurityTokenMalformed   = "InvalidSecurityToken.Malformed"
	CodeInvalidSecurityTokenMismatch    = "InvalidSecurityToken.MismatchWithAccessKey"
	CodeInvalidParameterRoleArn         = "InvalidParameter.RoleArn"
	CodeInvalidParameterRoleSessionName = "InvalidParameter.RoleSessionName"
	CodeInvalidParameterDurationSeconds = "InvalidParameter.DurationSeconds"
	CodeInvalidParameterPolicyGrammar   = "InvalidParameter.PolicyGrammar"
	CodeEntityNotExistRole              = "EntityNotExist.Role"
	CodeNoPermission                    = "NoPermission"

	// Migration state.
	CodePhoneNumberNotFound        = "PhoneNumber.NotFound"
	CodePhoneNumberNotMigrating    = "PhoneNumber.NotMigrating"
	CodePhoneNumberAlreadyExists   = "PhoneNumber.AlreadyExists"
	CodePhoneNumberNotVerified     = "PhoneNumber.NotVerified"
	CodePhoneNumberRegisterTooFreq = "PhoneNumber.RegisterTooFrequent"
	CodePhoneNumberAlreadyVerified = "PhoneNumber.AlreadyVerified"
	CodePhoneNumberNotRegistered   = "PhoneNumber.NotRegistered"
	CodeVerifyCodeSendTooFreq      = "VerifyCode.SendTooFrequent"
	CodeVerifyCodeSendFailed       = "VerifyCode.SendFailed"
	CodeVerifyCodeNotFound         = "VerifyCode.NotFound"
	CodeVerifyCodeInvalid          = "VerifyCode.Invalid"
	CodeVerifyCodeExpired          = "VerifyCode.Expired"
	CodeVerifyCodeAttemptsExceeded = "VerifyCode.AttemptsExceeded"
)

// MissingCode returns the wire code for a missing required parameter, "Missing" + name, as
// the Alibaba Cloud gateway names it (MissingCustSpaceId, MissingPhoneNumber, ...).
func MissingCode(param string) string { return "Missing" + param }
