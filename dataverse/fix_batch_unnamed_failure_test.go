package dataverse

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestExecuteBatchUnnamedFailure: without continue-on-error the service stops at the first failed
// operation and answers with that operation's response alone (webapi.md §6; Microsoft's "Handling
// errors" example). A top-level operation's response has no Content-ID, so the client cannot tell
// which operation failed: it must say so, not blame the first operation, which ran and succeeded.
// With a single operation, the failure is that operation's. (Found by the end-to-end tests
// against the emulator.)
func TestExecuteBatchUnnamedFailure(t *testing.T) {
	t.Parallel()
	body := "--batchresponse_u\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n" +
		"HTTP/1.1 404 Not Found\r\nREQ_ID: r-7\r\nContent-Type: application/json; odata.metadata=minimal\r\nOData-Version: 4.0\r\n\r\n" +
		`{"error":{"code":"0x80040217","message":"contact With Id = x Does Not Exist"}}` + "\r\n" +
		"--batchresponse_u--\r\n"
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "multipart/mixed; boundary=batchresponse_u")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, body)
	}, nil)

	b := NewBatch()
	b.Add(CreateRequest("contacts", Record{"lastname": "A"}))
	b.Add(UpdateRequest("contacts", idA, Record{"lastname": "B"}))
	b.Add(CreateRequest("contacts", Record{"lastname": "C"}))
	res, err := f.client.ExecuteBatch(context.Background(), b, nil)
	var re *ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("error %v is not a *ResponseError", err)
	}
	if re.StatusCode != 404 || re.Code != CodeObjectDoesNotExist || re.RequestID != "r-7" || re.BatchPart == nil || re.BatchPart.Index != -1 ||
		re.Method != "POST" || re.Path != "$batch" {
		t.Errorf("error = %+v part %+v, want the 404 with BatchPart.Index -1 on POST $batch", re, re.BatchPart)
	}
	if want := "dataverse: POST $batch: an operation the service did not name: 404 0x80040217: contact With Id = x Does Not Exist [request id r-7]"; err.Error() != want {
		t.Errorf("Error() = %q\nwant      %q", err.Error(), want)
	}
	if res == nil || len(res.Responses) != 0 {
		t.Errorf("responses = %+v, want none: the service sent none for the operations that succeeded", res)
	}

	// One operation: the failure is its own.
	one := NewBatch()
	one.Add(UpdateRequest("contacts", idA, Record{"lastname": "B"}))
	_, err = f.client.ExecuteBatch(context.Background(), one, nil)
	if !errors.As(err, &re) || re.BatchPart == nil || re.BatchPart.Index != 0 || re.Method != "PATCH" || !strings.HasPrefix(re.Path, "contacts(") {
		t.Errorf("single-operation batch: %v (%+v), want part 0, the PATCH", err, re)
	}
}
