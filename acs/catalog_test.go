package acs

import (
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/camsd/camsd"
)

// codesInDomain returns every Code* constant of ../codes.go, name to value, read from the
// source so that a code added there without a catalogue entry fails this test.
func codesInDomain(t *testing.T) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "../codes.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]string{}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			for i, n := range vs.Names {
				if !strings.HasPrefix(n.Name, "Code") {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					t.Fatalf("%s is not a string literal", n.Name)
				}
				v, _ := strconv.Unquote(lit.Value)
				codes[n.Name] = v
			}
		}
	}
	if len(codes) < 25 {
		t.Fatalf("found only %d codes in codes.go", len(codes))
	}
	return codes
}

func TestCatalog_everyDomainCode(t *testing.T) {
	codes := codesInDomain(t)
	for name, code := range codes {
		e, ok := catalog[code]
		switch {
		case !ok:
			t.Errorf("camsd.%s (%q) is not catalogued", name, code)
		case e.status < 200 || e.status > 599 || http.StatusText(e.status) == "":
			t.Errorf("%s: status %d", code, e.status)
		case e.message == "" || code != camsd.CodeOK && !strings.HasSuffix(e.message, "."):
			t.Errorf("%s: message %q is not a sentence", code, e.message)
		}
		if Status(code) != e.status || Message(code) != e.message {
			t.Errorf("%s: Status/Message disagree with the catalogue", code)
		}
	}
	// And nothing is catalogued that the domain does not name.
	values := map[string]bool{}
	for _, v := range codes {
		values[v] = true
	}
	for code := range catalog {
		if !values[code] {
			t.Errorf("catalogue entry %q is not a constant of codes.go", code)
		}
	}
}

func TestStatus(t *testing.T) {
	for _, tc := range []struct {
		code    string
		status  int
		message string
	}{
		{camsd.CodeInvalidVersion, 400, "Specified parameter Version is not valid."},
		{camsd.CodeInvalidActionNotFound, 404, "Specified api is not found, please check your url and method."},
		{camsd.CodeIncompleteSignature, 400, "The request signature does not conform to Aliyun standards."},
		{camsd.CodeInvalidSignatureMethod, 400, "Specified signature method is not valid."},
		{camsd.CodeInvalidTimeStampFormat, 400, "Specified time stamp or date value is not well formatted."},
		{camsd.CodeInvalidTimeStampExpired, 400, "Specified time stamp or date value is expired."},
		{camsd.CodeInvalidAccessKeyIDNotFound, 404, "Specified access key is not found."},
		{camsd.CodeInvalidAccessKeyIDInactive, 400, "Specified access key is disabled."},
		{camsd.CodeSignatureDoesNotMatch, 400, "Specified signature is not matched with our calculation."},
		{camsd.CodeSignatureNonceUsed, 400, "Specified signature nonce was used already."},
		{camsd.CodeInvalidParameterFormat, 400, "Specified parameter format is not valid."},
		{camsd.CodeInternalError, 500, "The request processing has failed due to some unknown error, exception or failure."},
		{camsd.CodeServiceUnavailable, 503, "The request has failed due to a temporary failure of the server."},
		{camsd.CodeSystemLimitControl, 400, "The system is under flow control."},
		{camsd.CodeProductUnsubscript, 400, "You have not subscribed to the specified product."},
		{camsd.CodeRAMPermissionDeny, 400, "You are not authorized to perform the operation."},
		{camsd.CodeUnknownResourceOwnerID, 400, "The resource does not belong to the current user."},
		{camsd.CodeInvalidParameterPhoneNumber, 400, "The phone number is invalid."},
		{camsd.CodePhoneNumberNotFound, 400, "The phone number does not exist in the space."},
		{camsd.CodePhoneNumberNotMigrating, 400, "The phone number is not being migrated."},
		{camsd.CodeVerifyCodeSendTooFreq, 400, "Verification codes are sent too frequently. Please try again later."},
		// Not catalogued.
		{camsd.MissingCode("CustSpaceId"), 400, "CustSpaceId is mandatory for this action."},
		{"InvalidCustSpaceId", 400, "Specified parameter CustSpaceId is not valid."},
		{"InvalidParameter.Locale", 400, "The specified parameter is not valid."},
		{"InvalidAccessKeyId.Other", 400, ""},
		{"PhoneNumber.Other", 400, ""},
		{"ServiceUnavailable.Maintenance", 503, "The request has failed due to a temporary failure of the server."},
		{"Whatever", 500, ""},
		{"", 500, ""},
	} {
		if got := Status(tc.code); got != tc.status {
			t.Errorf("Status(%q) = %d, want %d", tc.code, got, tc.status)
		}
		if got := Message(tc.code); got != tc.message {
			t.Errorf("Message(%q) = %q, want %q", tc.code, got, tc.message)
		}
	}
}
