package dverr

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestAppendEnvelope(t *testing.T) {
	notFound := &Error{Status: http.StatusNotFound, Code: CodeObjectDoesNotExist, Message: "contact With Id = 1 Does Not Exist"}
	all := func(string) bool { return true }
	tests := []struct {
		name string
		e    *Error
		want func(string) bool
		body string
	}{
		{"plain", notFound, nil,
			`{"error":{"code":"0x80040217","message":"contact With Id = 1 Does Not Exist"}}`},
		{"every annotation", notFound, all,
			`{"error":{"code":"0x80040217","message":"contact With Id = 1 Does Not Exist",` +
				`"@Microsoft.PowerApps.CDS.ErrorDetails.ApiExceptionCategory":"ClientError",` +
				`"@Microsoft.PowerApps.CDS.ErrorDetails.ApiExceptionHttpStatusCode":"404",` +
				`"@Microsoft.PowerApps.CDS.ErrorDetails.ApiExceptionMessageName":"ObjectDoesNotExist",` +
				`"@Microsoft.PowerApps.CDS.HelpLink":"http://go.microsoft.com/fwlink/?LinkID=398563&error=Microsoft.Crm.CrmException%3a80040217&client=platform",` +
				`"@Microsoft.PowerApps.CDS.InnerError.Message":"contact With Id = 1 Does Not Exist"}}`},
		{"server error without a message name, one annotation asked", Unexpected(),
			func(a string) bool { return a == AnnotationCategory || a == AnnotationMessageName },
			`{"error":{"code":"0x80040216","message":"An unexpected error occurred.",` +
				`"@Microsoft.PowerApps.CDS.ErrorDetails.ApiExceptionCategory":"ServerError"}}`},
		{"escaping as Json.NET does", &Error{Status: 400, Code: CodeODataError, Message: "a \"q\" <b> \\ \n\t\x01 \xff \u2028"}, nil,
			`{"error":{"code":"0x0","message":"a \"q\" <b> \\ \n\t\u0001 \ufffd ` + "\u2028" + `"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(AppendEnvelope(nil, tt.e, tt.want))
			if got != tt.body {
				t.Fatalf("envelope\n got %s\nwant %s", got, tt.body)
			}
			var env struct {
				Error map[string]string `json:"error"`
			}
			if err := json.Unmarshal([]byte(got), &env); err != nil || env.Error["code"] != tt.e.Code ||
				env.Error["message"] != strings.ToValidUTF8(tt.e.Message, "\uFFFD") {
				t.Fatalf("envelope does not read back: %v %q", err, env.Error)
			}
		})
	}
}

func TestCatalogue(t *testing.T) {
	tests := []struct {
		e       *Error
		status  int
		code    string
		message string
	}{
		{ResourceNotFound("contactz"), 404, "0x8006088a", "Resource not found for the segment 'contactz'."},
		{PropertyNotFound("x", "Microsoft.Dynamics.CRM.contact"), 400, "0x0", "Could not find a property named 'x' on type 'Microsoft.Dynamics.CRM.contact'."},
		{NotMemberOfOrganization(), 403, "0x80072560", "The user is not a member of the organization."},
		{NoHTTPResource("https://o/api/data/v9.2/WhoAmI"), 404, "", "No HTTP resource was found that matches the request URI 'https://o/api/data/v9.2/WhoAmI'."},
		{MethodNotAllowed("PUT"), 405, "0x0", "The requested resource does not support http method 'PUT'."},
		{NotImplemented("x"), 501, "0x80040216", "The emulator does not implement x yet."},
		{Unexpected(), 500, "0x80040216", "An unexpected error occurred."},
	}
	for _, tt := range tests {
		if tt.e.Status != tt.status || tt.e.Code != tt.code || tt.e.Message != tt.message || tt.e.Error() != tt.message {
			t.Errorf("got %d %q %q, want %d %q %q", tt.e.Status, tt.e.Code, tt.e.Message, tt.status, tt.code, tt.message)
		}
	}
	if MessageName(CodeDuplicateRecord) != "DuplicateRecord" || MessageName(CodeFetchNoEntity) != "" {
		t.Errorf("MessageName: %q %q", MessageName(CodeDuplicateRecord), MessageName(CodeFetchNoEntity))
	}
}
