package acs

import (
	"net/http"
	"strings"

	"github.com/camsd/camsd"
)

// entry is how the gateway answers a wire Code.
type entry struct {
	status  int
	message string
}

// catalog holds every Code of package camsd (a test keeps it so). Messages are those the
// Alibaba Cloud gateway and the CAMS documentation give, word for word, where they give one.
var catalog = map[string]entry{
	camsd.CodeOK: {http.StatusOK, "OK"},

	camsd.CodeInvalidVersion:             {http.StatusBadRequest, "Specified parameter Version is not valid."},
	camsd.CodeInvalidActionNotFound:      {http.StatusNotFound, "Specified api is not found, please check your url and method."},
	camsd.CodeIncompleteSignature:        {http.StatusBadRequest, "The request signature does not conform to Aliyun standards."},
	camsd.CodeInvalidSignatureMethod:     {http.StatusBadRequest, "Specified signature method is not valid."},
	camsd.CodeInvalidTimeStampFormat:     {http.StatusBadRequest, "Specified time stamp or date value is not well formatted."},
	camsd.CodeInvalidTimeStampExpired:    {http.StatusBadRequest, "Specified time stamp or date value is expired."},
	camsd.CodeInvalidAccessKeyIDNotFound: {http.StatusNotFound, "Specified access key is not found."},
	camsd.CodeInvalidAccessKeyIDInactive: {http.StatusBadRequest, "Specified access key is disabled."},
	camsd.CodeSignatureDoesNotMatch:      {http.StatusBadRequest, "Specified signature is not matched with our calculation."},
	camsd.CodeSignatureNonceUsed:         {http.StatusBadRequest, "Specified signature nonce was used already."},
	camsd.CodeInvalidParameterFormat:     {http.StatusBadRequest, "Specified parameter format is not valid."},
	camsd.CodeUnsupportedHTTPMethod:      {http.StatusBadRequest, "This http method is not supported."},
	camsd.CodeInternalError:              {http.StatusInternalServerError, "The request processing has failed due to some unknown error, exception or failure."},
	camsd.CodeServiceUnavailable:         {http.StatusServiceUnavailable, "The request has failed due to a temporary failure of the server."},

	// CAMS documents these four for every migration operation, all with HTTP 400.
	camsd.CodeSystemLimitControl:     {http.StatusBadRequest, "The system is under flow control."},
	camsd.CodeProductUnsubscript:     {http.StatusBadRequest, "You have not subscribed to the specified product."},
	camsd.CodeRAMPermissionDeny:      {http.StatusBadRequest, "You are not authorized to perform the operation."},
	camsd.CodeUnknownResourceOwnerID: {http.StatusBadRequest, "The resource does not belong to the current user."},

	camsd.CodeInvalidParameter:            {http.StatusBadRequest, "The specified parameter is not valid."},
	camsd.CodeInvalidParameterPhoneNumber: {http.StatusBadRequest, "The phone number is invalid."},
	camsd.CodeInvalidParameterLanguage:    {http.StatusBadRequest, "The language is not supported."},

	// STS. Alibaba Cloud documents the AssumeRole codes and messages (the STS troubleshooting
	// page, help doc 42775); the InvalidSecurityToken codes are the gateway's, whose wording
	// and status no public page gives: camsd's follow the gateway's other messages.
	camsd.CodeMissingSecurityToken:            {http.StatusBadRequest, "SecurityToken is mandatory for this action."},
	camsd.CodeInvalidSecurityTokenExpired:     {http.StatusBadRequest, "Specified SecurityToken is expired."},
	camsd.CodeInvalidSecurityTokenMalformed:   {http.StatusBadRequest, "Specified SecurityToken is malformed."},
	camsd.CodeInvalidSecurityTokenMismatch:    {http.StatusBadRequest, "Specified SecurityToken mismatch with the AccessKey."},
	camsd.CodeInvalidParameterRoleArn:         {http.StatusBadRequest, "The parameter RoleArn is wrongly formed."},
	camsd.CodeInvalidParameterRoleSessionName: {http.StatusBadRequest, "The parameter RoleSessionName is wrongly formed."},
	camsd.CodeInvalidParameterDurationSeconds: {http.StatusBadRequest, "The Min/Max value of DurationSeconds is 15min/1hr."},
	camsd.CodeInvalidParameterPolicyGrammar:   {http.StatusBadRequest, "The parameter Policy has not passed grammar check."},
	camsd.CodeEntityNotExistRole:              {http.StatusNotFound, "The role not exists."},
	camsd.CodeNoPermission:                    {http.StatusForbidden, "You are not authorized to do this action. You should be authorized by RAM."},

	camsd.CodePhoneNumberNotFound:     {http.StatusBadRequest, "The phone number does not exist in the space."},
	camsd.CodePhoneNumberNotMigrating: {http.StatusBadRequest, "The phone number is not being migrated."},
	camsd.CodeVerifyCodeSendTooFreq:   {http.StatusBadRequest, "Verification codes are sent too frequently. Please try again later."},

	camsd.CodePhoneNumberAlreadyExists:   {http.StatusBadRequest, "The phone number already exists."},
	camsd.CodePhoneNumberNotVerified:     {http.StatusBadRequest, "The phone number has not been verified."},
	camsd.CodePhoneNumberRegisterTooFreq: {http.StatusBadRequest, "The phone number has been registered too many times. Please try again later."},
	camsd.CodePhoneNumberAlreadyVerified: {http.StatusBadRequest, "The phone number has already been verified."},
	camsd.CodePhoneNumberNotRegistered:   {http.StatusBadRequest, "The phone number is not registered."},
	camsd.CodeVerifyCodeSendFailed:       {http.StatusBadRequest, "The verification code could not be sent."},
	camsd.CodeVerifyCodeNotFound:         {http.StatusBadRequest, "No verification code has been sent to the phone number, or it has been used."},
	camsd.CodeVerifyCodeInvalid:          {http.StatusBadRequest, "The verification code is incorrect."},
	camsd.CodeVerifyCodeExpired:          {http.StatusBadRequest, "The verification code has expired."},
	camsd.CodeVerifyCodeAttemptsExceeded: {http.StatusBadRequest, "Too many incorrect attempts. Please request a new verification code."},
}

// Status returns the HTTP status of a wire Code: the catalogue's; else that of the code's
// family ("InvalidParameter.Foo" takes InvalidParameter's); else 400 for Missing{Name},
// Invalid{Name} and codes of a catalogued family ("PhoneNumber.Foo"); else 500, for an
// uncatalogued code is a server bug.
func Status(code string) int {
	if e, ok := catalog[code]; ok {
		return e.status
	}
	family, _, dotted := strings.Cut(code, ".")
	if e, ok := catalog[family]; ok && dotted {
		return e.status
	}
	if strings.HasPrefix(code, "Missing") || strings.HasPrefix(code, "Invalid") || dotted && knownFamily(family) {
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

// Message returns the default message of a wire Code: the catalogue's; else the gateway's
// wording for Missing{Name} and Invalid{Name}; else that of the code's family; else "".
func Message(code string) string {
	if e, ok := catalog[code]; ok {
		return e.message
	}
	if name, ok := strings.CutPrefix(code, "Missing"); ok && name != "" {
		return name + " is mandatory for this action."
	}
	family, _, dotted := strings.Cut(code, ".")
	if name, ok := strings.CutPrefix(code, "Invalid"); ok && name != "" && !dotted {
		return "Specified parameter " + name + " is not valid."
	}
	if e, ok := catalog[family]; ok && dotted {
		return e.message
	}
	return ""
}

func knownFamily(family string) bool {
	for code := range catalog {
		if strings.HasPrefix(code, family+".") {
			return true
		}
	}
	return false
}

// newError returns the *camsd.Error of code with its catalogue message.
func newError(code string) *camsd.Error {
	return &camsd.Error{Code: code, Message: Message(code)}
}
