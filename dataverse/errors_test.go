package dataverse

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestResponseErrorFromNotFound(t *testing.T) {
	t.Parallel()
	msg := "contact With Id = " + idA.String() + " Does Not Exist"
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("x-ms-service-request-id", "4c1b2e7a")
		writeError(w, http.StatusNotFound, CodeObjectDoesNotExist, msg)
	}, nil)
	err := f.client.Retrieve(context.Background(), "contacts", idA, &Record{}, &RetrieveOptions{Select: []string{"fullname"}})
	var re *ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("error %T %v is not a *ResponseError", err, err)
	}
	want := &ResponseError{
		StatusCode: 404, Code: CodeObjectDoesNotExist, Message: msg, RequestID: "4c1b2e7a",
		Method: "GET", Path: "contacts(" + idA.String() + ")",
	}
	if diff := cmp.Diff(want, re, cmpopts.IgnoreFields(ResponseError{}, "RawResponse")); diff != "" {
		t.Errorf("ResponseError (-want +got):\n%s", diff)
	}
	wantText := "dataverse: GET contacts(" + idA.String() + "): 404 0x80040217: " + msg + " [request id 4c1b2e7a]"
	if err.Error() != wantText {
		t.Errorf("Error() = %q\nwant      %q", err.Error(), wantText)
	}
	if !IsNotFound(err) || IsThrottled(err) || IsForbidden(err) || IsUnauthorized(err) || IsPreconditionFailed(err) {
		t.Errorf("helpers disagree with status 404")
	}
	if !IsNotFound(fmt.Errorf("wrapped: %w", err)) {
		t.Errorf("IsNotFound does not see through wrapping")
	}
	body, _ := io.ReadAll(re.RawResponse.Body)
	if !strings.Contains(string(body), CodeObjectDoesNotExist) {
		t.Errorf("RawResponse body cannot be read again: %q", body)
	}
}

func TestResponseErrorHints(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		status  int
		header  map[string]string
		body    string
		wantHas []string
		wantNot []string
		check   func(t *testing.T, re *ResponseError)
	}{
		{
			name:   "401 with the Dataverse challenge",
			status: 401,
			header: map[string]string{"WWW-Authenticate": "Bearer authorization_uri=https://login.microsoftonline.com/tid-1/oauth2/authorize, resource_id=https://contoso.crm.dynamics.com/"},
			wantHas: []string{
				"401 Unauthorized",
				"for resource https://contoso.crm.dynamics.com/ (scope https://contoso.crm.dynamics.com/.default)",
				"from authority https://login.microsoftonline.com/tid-1/oauth2/authorize",
			},
			check: func(t *testing.T, re *ResponseError) {
				want := &Challenge{AuthorizationURI: "https://login.microsoftonline.com/tid-1/oauth2/authorize", ResourceID: "https://contoso.crm.dynamics.com/"}
				if diff := cmp.Diff(want, re.Challenge); diff != "" {
					t.Errorf("Challenge (-want +got):\n%s", diff)
				}
			},
		},
		{
			name:    "403 no application user",
			status:  403,
			body:    `{"error":{"code":"0x80072560","message":"The user is not a member of the organization."}}`,
			wantHas: []string{"403 0x80072560: The user is not a member of the organization.", "create one (Power Platform admin center → Environment → Application users) and give it a security role"},
		},
		{
			name:    "400 change tracking not enabled",
			status:  400,
			body:    `{"error":{"code":"0x80072491","message":"Entity task isn't enabled for change tracking."}}`,
			wantHas: []string{"400 0x80072491: Entity task isn't enabled for change tracking.", "turn on \"Track changes\" for the table", "ChangeTrackingEnabled"},
		},
		{
			name:    "429 with Retry-After",
			status:  429,
			header:  map[string]string{"Retry-After": "7"},
			body:    `{"error":{"code":"0x80072322","message":"Number of requests exceeded the limit of 6000 over time window of 300 seconds."}}`,
			wantHas: []string{"429 0x80072322", "retry after 7s"},
			check: func(t *testing.T, re *ResponseError) {
				if re.RetryAfter != 7*time.Second {
					t.Errorf("RetryAfter = %v, want 7s", re.RetryAfter)
				}
			},
		},
		{
			name:    "OData-layer error with code 0x0",
			status:  400,
			body:    `{"error":{"code":"0x0","message":"Could not find a property named 'Name' on type 'Microsoft.Dynamics.CRM.account'.","@Microsoft.PowerApps.CDS.HelpLink":"http://go.microsoft.com/fwlink/?LinkID=398563"}}`,
			wantHas: []string{"400 Bad Request: Could not find a property named 'Name'"},
			check: func(t *testing.T, re *ResponseError) {
				if string(re.Details["@Microsoft.PowerApps.CDS.HelpLink"]) != `"http://go.microsoft.com/fwlink/?LinkID=398563"` {
					t.Errorf("Details = %v", re.Details)
				}
			},
		},
		{
			name:    "non-JSON gateway body",
			status:  502,
			body:    "upstream connect error\r\nreset",
			wantHas: []string{"502 Bad Gateway: upstream connect error  reset"},
		},
		{
			name:    "HTML body is not echoed",
			status:  500,
			body:    "<html><body>oops</body></html>",
			wantHas: []string{"dataverse: GET contacts: 500 Internal Server Error"},
			wantNot: []string{"<html", "oops"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			}, &ClientOptions{MaxRetryWait: -1})
			_, err := f.client.List(context.Background(), "contacts", nil)
			var re *ResponseError
			if !errors.As(err, &re) {
				t.Fatalf("error %v is not a *ResponseError", err)
			}
			if re.StatusCode != tt.status {
				t.Errorf("StatusCode = %d, want %d", re.StatusCode, tt.status)
			}
			for _, w := range tt.wantHas {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			for _, w := range append(tt.wantNot, "static-token") {
				if strings.Contains(err.Error(), w) {
					t.Errorf("error %q contains %q", err, w)
				}
			}
			if tt.check != nil {
				tt.check(t, re)
			}
		})
	}
}

func TestErrorBodyIsBounded(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		chunk := strings.Repeat("x", 1<<10)
		for range 1024 { // 1 MiB
			if _, err := io.WriteString(w, chunk); err != nil {
				return
			}
		}
	}, nil)
	_, err := f.client.List(context.Background(), "contacts", nil)
	var re *ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("error %v is not a *ResponseError", err)
	}
	body, _ := io.ReadAll(re.RawResponse.Body)
	if len(body) != maxErrorBody {
		t.Errorf("read %d bytes of the error body, want the %d-byte bound", len(body), maxErrorBody)
	}
	if len(re.Message) > 400 {
		t.Errorf("message is %d bytes long; want a short excerpt", len(re.Message))
	}
}

func TestParseChallenge(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   []string
		want *Challenge
	}{
		{[]string{`Bearer authorization_uri=https://login.microsoftonline.com/t/oauth2/authorize, resource_id=https://org.crm.dynamics.com/`},
			&Challenge{AuthorizationURI: "https://login.microsoftonline.com/t/oauth2/authorize", ResourceID: "https://org.crm.dynamics.com/"}},
		{[]string{`Bearer authorization_uri="https://a/t", resource_id="https://r/"`}, &Challenge{AuthorizationURI: "https://a/t", ResourceID: "https://r/"}},
		{[]string{`Basic realm="x"`, `bearer resource_id=https://r/`}, &Challenge{ResourceID: "https://r/"}},
		{[]string{`Basic realm="x"`}, nil},
		{nil, nil},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, parseChallenge(http.Header{"Www-Authenticate": tt.in})); diff != "" {
			t.Errorf("parseChallenge(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestHasCodeIgnoresCase(t *testing.T) {
	t.Parallel()
	err := fmt.Errorf("x: %w", &ResponseError{StatusCode: 412, Code: "0X80040237"})
	if !HasCode(err, CodeDuplicateRecord) || HasCode(err, CodeObjectDoesNotExist) || HasCode(errors.New("plain"), CodeDuplicateRecord) {
		t.Error("HasCode gives the wrong answer")
	}
}
