package dataverse_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/d365s2s/d365/dataverse"
)

// TestE2EFileWireShapes checks the emulator's answers against the shapes Microsoft documents for
// file columns (file-column-data, the Web API reference of the block messages), request by
// request with Client.Do rather than through UploadFile and DownloadFile.
func TestE2EFileWireShapes(t *testing.T) {
	t.Parallel()
	env := newFilesEnv(t, nil)
	ctx := t.Context()
	id := newDocument(t, env, "wire")
	col := "new_documents(" + id.String() + ")/new_file"
	do := func(method, path string, body io.Reader, header http.Header) (*http.Response, []byte, error) {
		t.Helper()
		opts := &dataverse.DoOptions{ContentType: header.Get("Content-Type"), RequestOptions: dataverse.RequestOptions{Header: header}}
		resp, err := env.client.Do(ctx, method, path, body, opts)
		if err != nil {
			return nil, nil, err
		}
		defer resp.Body.Close()
		data, err := io.ReadAll(resp.Body)
		return resp, data, err
	}
	octet := func(extra ...string) http.Header {
		h := http.Header{"Content-Type": {"application/octet-stream"}}
		for i := 0; i+1 < len(extra); i += 2 {
			h.Set(extra[i], extra[i+1])
		}
		return h
	}
	content := randomBytes(4<<20+10, 11)

	// Chunked upload: the start answers 200 with Location (a session token) and x-ms-chunk-size.
	resp, _, err := do("PATCH", col+"?x-ms-file-name=chunked.bin", nil, http.Header{"x-ms-transfer-mode": {"chunked"}})
	if err != nil {
		t.Fatalf("start a chunked upload: %v", err)
	}
	location := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusOK || !strings.Contains(location, "/new_file?sessiontoken=") ||
		resp.Header.Get("x-ms-chunk-size") != "4194304" || resp.Header.Get("Accept-Ranges") != "bytes" {
		t.Fatalf("chunked start: %d Location %q x-ms-chunk-size %q", resp.StatusCode, location, resp.Header.Get("x-ms-chunk-size"))
	}
	total := len(content)
	send := func(from, to int) (*http.Response, error) {
		resp, _, err := do("PATCH", location, bytes.NewReader(content[from:to]),
			octet("Content-Range", fmt.Sprintf("bytes %d-%d/%d", from, to-1, total), "x-ms-file-name", "chunked.bin"))
		return resp, err
	}
	// A chunk that does not start where the last one ended is refused, and the session survives.
	_, err = send(100, 200)
	wantResponseError(t, "a chunk out of order", err, http.StatusBadRequest, "0x80090000")
	// A chunk over x-ms-chunk-size is refused.
	_, err = send(0, 4<<20+1)
	wantResponseError(t, "a chunk over 4 MB", err, http.StatusBadRequest, "0x80090000")
	if resp, err = send(0, 4<<20); err != nil || resp.StatusCode != http.StatusPartialContent {
		t.Fatalf("first chunk: %v %v, want 206", resp, err)
	}
	if resp, err = send(4<<20, total); err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("last chunk: %v %v, want 204", resp, err)
	}

	// $value: the bytes with the size, name and mimetype headers.
	resp, body, err := do("GET", col+"/$value", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, content) || resp.Header.Get("x-ms-file-size") != fmt.Sprint(total) ||
		resp.Header.Get("x-ms-file-name") != "chunked.bin" || resp.Header.Get("mimetype") == "" ||
		!strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), "x-ms-file-size") {
		t.Errorf("$value: %d, %d bytes, headers %v", resp.StatusCode, len(body), resp.Header)
	}

	// A single PATCH: the x-ms-file-name header wins over the query parameter.
	if resp, _, err = do("PATCH", col+"?x-ms-file-name=query.txt", strings.NewReader("hello"), octet("x-ms-file-name", "header.txt")); err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("single PATCH: %v %v", resp, err)
	}
	var rec dataverse.Record
	if err := env.client.Retrieve(ctx, "new_documents", id, &rec, &dataverse.RetrieveOptions{Select: []string{"new_file_name"}}); err != nil {
		t.Fatal(err)
	}
	if name, _ := rec.String("new_file_name"); name != "header.txt" {
		t.Errorf("new_file_name = %q, want the header's header.txt", name)
	}
	_, _, err = do("PATCH", col, strings.NewReader("hello"), octet())
	wantResponseError(t, "a single PATCH without a file name", err, http.StatusBadRequest, "0x80090003")
	_, _, err = do("PATCH", col+"?sessiontoken=nope", strings.NewReader("x"), octet("Content-Range", "bytes 0-0/1"))
	wantResponseError(t, "an unknown session token", err, http.StatusBadRequest, "0x80090003")

	// The block messages, in the documented shapes.
	post := func(action string, in any) (map[string]json.RawMessage, error) {
		t.Helper()
		b, _ := json.Marshal(in)
		resp, data, err := do("POST", action, bytes.NewReader(b), nil)
		if err != nil {
			return nil, err
		}
		out := map[string]json.RawMessage{}
		if resp.StatusCode != http.StatusNoContent {
			if err := json.Unmarshal(data, &out); err != nil {
				t.Fatalf("%s answered %q: %v", action, data, err)
			}
		}
		return out, nil
	}
	context := func(out map[string]json.RawMessage) string {
		var s string
		_ = json.Unmarshal(out["@odata.context"], &s)
		return s
	}
	target := map[string]any{"new_documentid": id, "@odata.type": "Microsoft.Dynamics.CRM.new_document"}
	_, err = post("InitializeFileBlocksUpload", map[string]any{"Target": target, "FileName": "b.bin", "FileAttributeName": "new_name"})
	wantResponseError(t, "a FileAttributeName that is not a file column", err, http.StatusBadRequest, "0x80090007")
	init, err := post("InitializeFileBlocksUpload", map[string]any{"Target": target, "FileName": "b.bin", "FileAttributeName": "new_file"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(context(init), "/$metadata#Microsoft.Dynamics.CRM.InitializeFileBlocksUploadResponse") {
		t.Errorf("InitializeFileBlocksUpload @odata.context %q", context(init))
	}
	var token string
	_ = json.Unmarshal(init["FileContinuationToken"], &token)
	_, err = post("UploadBlock", map[string]any{"BlockId": "not base64!", "BlockData": []byte("x"), "FileContinuationToken": token})
	wantResponseError(t, "a block id that is not base64", err, http.StatusBadRequest, "0x80040203")
	ids := []string{base64.StdEncoding.EncodeToString([]byte("block-b")), base64.StdEncoding.EncodeToString([]byte("block-a"))}
	for i, data := range []string{"world", "hello "} {
		if _, err := post("UploadBlock", map[string]any{"BlockId": ids[i], "BlockData": []byte(data), "FileContinuationToken": token}); err != nil {
			t.Fatalf("UploadBlock: %v", err)
		}
	}
	_, err = post("UploadBlock", map[string]any{"BlockId": base64.StdEncoding.EncodeToString([]byte("longer-block-id")), "BlockData": []byte("x"), "FileContinuationToken": token})
	wantResponseError(t, "block ids of different lengths", err, http.StatusBadRequest, "0x80040203")
	_, err = post("CommitFileBlocksUpload", map[string]any{"FileName": "b.txt", "MimeType": "text/plain", "BlockList": []string{ids[1], "bmV2ZXI="}, "FileContinuationToken": token})
	wantResponseError(t, "a block list naming a block never uploaded", err, http.StatusBadRequest, "0x80040203")
	commit, err := post("CommitFileBlocksUpload", map[string]any{"FileName": "b.txt", "MimeType": "text/plain", "BlockList": []string{ids[1], ids[0]}, "FileContinuationToken": token})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(context(commit), "#Microsoft.Dynamics.CRM.CommitFileBlocksUploadResponse") || string(commit["FileSizeInBytes"]) != "11" {
		t.Errorf("CommitFileBlocksUpload = %s, %s", context(commit), commit["FileSizeInBytes"])
	}
	down, err := post("InitializeFileBlocksDownload", map[string]any{"Target": target, "FileAttributeName": "new_file"})
	if err != nil {
		t.Fatal(err)
	}
	if string(down["FileSizeInBytes"]) != "11" || string(down["FileName"]) != `"b.txt"` || string(down["IsChunkingSupported"]) != "true" ||
		!strings.HasSuffix(context(down), "#Microsoft.Dynamics.CRM.InitializeFileBlocksDownloadResponse") {
		t.Errorf("InitializeFileBlocksDownload = %v", down)
	}
	_ = json.Unmarshal(down["FileContinuationToken"], &token)
	block, err := post("DownloadBlock", map[string]any{"Offset": 6, "BlockLength": 100, "FileContinuationToken": token})
	if err != nil {
		t.Fatal(err)
	}
	var data []byte
	if err := json.Unmarshal(block["Data"], &data); err != nil || string(data) != "world" ||
		!strings.HasSuffix(context(block), "#Microsoft.Dynamics.CRM.DownloadBlockResponse") {
		t.Errorf("DownloadBlock from 6 = %q (%v), want the rest of the blocks in BlockList order, \"world\"", data, err)
	}
}
