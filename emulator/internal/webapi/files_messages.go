package webapi

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/d365s2s/d365/emulator/internal/dverr"
	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/d365s2s/d365/emulator/internal/store"
	"github.com/google/uuid"
)

// The file block messages, unbound actions POSTed to <base>/<Name>
// (https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/initializefileblocksupload
// and its siblings uploadblock, commitfileblocksupload,
// initializefileblocksdownload, downloadblock, deletefile).
var fileMessages = map[string]func(req *request, body []byte) error{
	"InitializeFileBlocksUpload":   (*request).initializeFileBlocksUpload,
	"UploadBlock":                  (*request).uploadBlock,
	"CommitFileBlocksUpload":       (*request).commitFileBlocksUpload,
	"InitializeFileBlocksDownload": (*request).initializeFileBlocksDownload,
	"DownloadBlock":                (*request).downloadBlock,
	"DeleteFile":                   (*request).deleteFileMessage,
}

// fileMessage answers POST <base>/<message>.
func (req *request) fileMessage(segs []string, serve func(*request, []byte) error) error {
	if len(segs) > 1 {
		return errResourceNotFound(segs[1])
	}
	if req.r.Method != http.MethodPost {
		return errNoHTTPResource(req.requestURL())
	}
	body, err := io.ReadAll(http.MaxBytesReader(req.w, req.r.Body, req.h.maxBody))
	if err != nil {
		return newError(http.StatusRequestEntityTooLarge, dverr.CodePayload, "The request body is larger than the limit of %d bytes.", req.h.maxBody)
	}
	return serve(req, body)
}

// fileMessageInt64 is an Edm.Int64 parameter, as a JSON number or, with
// IEEE754Compatible=true, a string.
type fileMessageInt64 int64

func (n *fileMessageInt64) UnmarshalJSON(b []byte) error {
	v, err := strconv.ParseInt(strings.Trim(string(b), `"`), 10, 64)
	if err != nil {
		return errors.New("not an Edm.Int64")
	}
	*n = fileMessageInt64(v)
	return nil
}

func decodeFileMessage(body []byte, into any, message string) error {
	if err := json.Unmarshal(body, into); err != nil {
		return newError(http.StatusBadRequest, dverr.CodePayload, "The %s request body could not be read: %v", message, err)
	}
	return nil
}

// fileMessageTarget reads a Target (crmbaseentity) and FileAttributeName.
func (req *request) fileMessageTarget(target map[string]json.RawMessage, attribute string) (store.FileTarget, error) {
	var typeName string
	_ = json.Unmarshal(target["@odata.type"], &typeName)
	logical, ok := strings.CutPrefix(strings.TrimPrefix(typeName, "#"), schema.Namespace+".")
	t, found := req.h.schema.Table(logical)
	if !ok || !found {
		return store.FileTarget{}, newError(http.StatusBadRequest, dverr.CodePayload,
			"Target needs \"@odata.type\": \"Microsoft.Dynamics.CRM.<table>\" naming a table; got %q.", typeName)
	}
	var idText string
	_ = json.Unmarshal(target[t.PrimaryID().LogicalName], &idText)
	id, err := uuid.Parse(idText)
	if err != nil {
		return store.FileTarget{}, newError(http.StatusBadRequest, dverr.CodePayload,
			"Target needs its primary key %q as a GUID; got %q.", t.PrimaryID().LogicalName, idText)
	}
	c, ok := t.Column(attribute)
	if !ok || c.File == nil {
		return store.FileTarget{}, newError(statusFileRefused, codeInvalidFileAttributeName, "Invalid File Attribute Name: [%s].", attribute)
	}
	return store.FileTarget{Table: t, ID: id, Column: c}, nil
}

func (req *request) initializeFileBlocksUpload(body []byte) error {
	var in struct {
		Target            map[string]json.RawMessage
		FileName          string
		FileAttributeName string
	}
	if err := decodeFileMessage(body, &in, "InitializeFileBlocksUpload"); err != nil {
		return err
	}
	target, err := req.fileMessageTarget(in.Target, in.FileAttributeName)
	if err != nil {
		return err
	}
	if in.FileName == "" {
		return newError(http.StatusBadRequest, dverr.CodePayload, "InitializeFileBlocksUpload needs a FileName.")
	}
	token, err := req.h.store.BeginFileUpload(req.ctx, req.p, target, in.FileName)
	if err != nil {
		return fileAPIError(err)
	}
	jw := req.startJSON(http.StatusOK)
	jw.raw(`{"@odata.context":`)
	jw.str(req.base + "/$metadata#Microsoft.Dynamics.CRM.InitializeFileBlocksUploadResponse")
	jw.raw(`,"FileContinuationToken":`)
	jw.str(token)
	jw.byte('}')
	return req.endJSON(jw)
}

func (req *request) uploadBlock(body []byte) error {
	var in struct {
		BlockId               string
		BlockData             []byte
		FileContinuationToken string
	}
	if err := decodeFileMessage(body, &in, "UploadBlock"); err != nil {
		return err
	}
	if err := checkBlockID(in.BlockId); err != nil {
		return newError(statusFileRefused, codeInvalidBlock, "%v", err)
	}
	if len(in.BlockData) == 0 {
		return newError(statusFileRefused, codeFileContentIsNull, "File content can not be null. (UploadBlock has no BlockData.)")
	}
	if err := req.h.store.PutFileBlock(req.ctx, in.FileContinuationToken, in.BlockId, in.BlockData); err != nil {
		return fileAPIError(err)
	}
	req.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (req *request) commitFileBlocksUpload(body []byte) error {
	var in struct {
		FileName              string
		MimeType              string
		BlockList             []string
		FileContinuationToken string
	}
	if err := decodeFileMessage(body, &in, "CommitFileBlocksUpload"); err != nil {
		return err
	}
	if len(in.BlockList) == 0 {
		return newError(statusFileRefused, codeFileContentIsNull, "File content can not be null. (The BlockList is empty.)")
	}
	for _, id := range in.BlockList {
		if err := checkBlockID(id); err != nil {
			return newError(statusFileRefused, codeInvalidBlock, "%v", err)
		}
	}
	fi, err := req.h.store.CommitFileUpload(req.ctx, req.p, in.FileContinuationToken, in.FileName, in.MimeType, in.BlockList)
	if err != nil {
		return fileAPIError(err)
	}
	size := fi.Size
	if !fi.HasContent {
		size = 0
	}
	jw := req.startJSON(http.StatusOK)
	jw.raw(`{"@odata.context":`)
	jw.str(req.base + "/$metadata#Microsoft.Dynamics.CRM.CommitFileBlocksUploadResponse")
	jw.raw(`,"FileId":`)
	jw.guid(fi.FileID)
	jw.raw(`,"FileSizeInBytes":`)
	jw.int(size)
	jw.byte('}')
	return req.endJSON(jw)
}

func (req *request) initializeFileBlocksDownload(body []byte) error {
	var in struct {
		Target            map[string]json.RawMessage
		FileAttributeName string
		DataSource        *string
	}
	if err := decodeFileMessage(body, &in, "InitializeFileBlocksDownload"); err != nil {
		return err
	}
	target, err := req.fileMessageTarget(in.Target, in.FileAttributeName)
	if err != nil {
		return err
	}
	token, fi, err := req.h.store.BeginFileDownload(req.ctx, req.p, target)
	if err != nil {
		return fileAPIError(err)
	}
	jw := req.startJSON(http.StatusOK)
	jw.raw(`{"@odata.context":`)
	jw.str(req.base + "/$metadata#Microsoft.Dynamics.CRM.InitializeFileBlocksDownloadResponse")
	jw.raw(`,"FileContinuationToken":`)
	jw.str(token)
	jw.raw(`,"FileSizeInBytes":`)
	jw.int(fi.Size)
	jw.raw(`,"FileName":`)
	jw.str(fi.Name)
	jw.raw(`,"IsChunkingSupported":true}`)
	return req.endJSON(jw)
}

// downloadBlock answers DownloadBlock: the bytes Offset..Offset+BlockLength
// (the last block returns the remainder), base64-encoded as they are read
// from the store, never whole in memory.
func (req *request) downloadBlock(body []byte) error {
	var in struct {
		Offset                fileMessageInt64
		BlockLength           fileMessageInt64
		FileContinuationToken string
	}
	if err := decodeFileMessage(body, &in, "DownloadBlock"); err != nil {
		return err
	}
	fi, err := req.h.store.FileDownload(req.ctx, in.FileContinuationToken)
	if err != nil {
		return fileAPIError(err)
	}
	offset, length := int64(in.Offset), int64(in.BlockLength)
	if offset < 0 || length <= 0 || offset >= fi.Size {
		return newError(statusFileRefused, codeInvalidFileRange,
			"Chunk range used in this call is either not valid or it is bigger than allowed %d MB. (Offset %d, BlockLength %d, file of %d bytes.)", fileChunkSize>>20, offset, length, fi.Size)
	}
	length = min(length, fi.Size-offset)
	jw := req.startJSON(http.StatusOK)
	jw.raw(`{"@odata.context":`)
	jw.str(req.base + "/$metadata#Microsoft.Dynamics.CRM.DownloadBlockResponse")
	jw.raw(`,"Data":"`)
	if err := jw.flush(); err != nil {
		return nil
	}
	enc := base64.NewEncoder(base64.StdEncoding, req.w)
	if err := req.h.store.ReadFile(req.ctx, fi.FileID, offset, length, enc); err != nil {
		req.h.log.Error("webapi: DownloadBlock failed while sending", "err", err)
		return nil
	}
	if err := enc.Close(); err != nil {
		return nil
	}
	_, _ = io.WriteString(req.w, `"}`)
	return nil
}

func (req *request) deleteFileMessage(body []byte) error {
	var in struct{ FileId string }
	if err := decodeFileMessage(body, &in, "DeleteFile"); err != nil {
		return err
	}
	id, err := uuid.Parse(in.FileId)
	if err != nil {
		return newError(http.StatusBadRequest, dverr.CodePayload, "DeleteFile needs FileId as a GUID; got %q.", in.FileId)
	}
	if err := req.h.store.DeleteFileByID(req.ctx, req.p, id); err != nil {
		return fileAPIError(err)
	}
	req.w.WriteHeader(http.StatusNoContent)
	return nil
}

// fileMessagesCSDL describes the file messages in $metadata.
const fileMessagesCSDL = `<ComplexType Name="InitializeFileBlocksUploadResponse"><Property Name="FileContinuationToken" Type="Edm.String" Unicode="false"/></ComplexType>
<ComplexType Name="CommitFileBlocksUploadResponse"><Property Name="FileId" Type="Edm.Guid" Nullable="false"/><Property Name="FileSizeInBytes" Type="Edm.Int64" Nullable="false"/></ComplexType>
<ComplexType Name="InitializeFileBlocksDownloadResponse"><Property Name="FileContinuationToken" Type="Edm.String" Unicode="false"/><Property Name="FileSizeInBytes" Type="Edm.Int64" Nullable="false"/><Property Name="FileName" Type="Edm.String" Unicode="false"/><Property Name="IsChunkingSupported" Type="Edm.Boolean" Nullable="false"/></ComplexType>
<ComplexType Name="DownloadBlockResponse"><Property Name="Data" Type="Edm.Binary"/></ComplexType>
<Action Name="InitializeFileBlocksUpload"><Parameter Name="Target" Type="mscrm.crmbaseentity" Nullable="false"/><Parameter Name="FileName" Type="Edm.String" Nullable="false" Unicode="false"/><Parameter Name="FileAttributeName" Type="Edm.String" Nullable="false" Unicode="false"/><ReturnType Type="mscrm.InitializeFileBlocksUploadResponse" Nullable="false"/></Action>
<Action Name="UploadBlock"><Parameter Name="BlockId" Type="Edm.String" Nullable="false" Unicode="false"/><Parameter Name="BlockData" Type="Edm.Binary" Nullable="false"/><Parameter Name="FileContinuationToken" Type="Edm.String" Nullable="false" Unicode="false"/></Action>
<Action Name="CommitFileBlocksUpload"><Parameter Name="FileName" Type="Edm.String" Nullable="false" Unicode="false"/><Parameter Name="MimeType" Type="Edm.String" Nullable="false" Unicode="false"/><Parameter Name="BlockList" Type="Collection(Edm.String)" Nullable="false" Unicode="false"/><Parameter Name="FileContinuationToken" Type="Edm.String" Nullable="false" Unicode="false"/><ReturnType Type="mscrm.CommitFileBlocksUploadResponse" Nullable="false"/></Action>
<Action Name="InitializeFileBlocksDownload"><Parameter Name="Target" Type="mscrm.crmbaseentity" Nullable="false"/><Parameter Name="FileAttributeName" Type="Edm.String" Nullable="false" Unicode="false"/><Parameter Name="DataSource" Type="Edm.String" Unicode="false"/><ReturnType Type="mscrm.InitializeFileBlocksDownloadResponse" Nullable="false"/></Action>
<Action Name="DownloadBlock"><Parameter Name="Offset" Type="Edm.Int64" Nullable="false"/><Parameter Name="BlockLength" Type="Edm.Int64" Nullable="false"/><Parameter Name="FileContinuationToken" Type="Edm.String" Nullable="false" Unicode="false"/><ReturnType Type="mscrm.DownloadBlockResponse" Nullable="false"/></Action>
<Action Name="DeleteFile"><Parameter Name="FileId" Type="Edm.Guid" Nullable="false"/></Action>
`

// fileMessagesImportCSDL are the action imports of the file messages.
const fileMessagesImportCSDL = `<ActionImport Name="InitializeFileBlocksUpload" Action="Microsoft.Dynamics.CRM.InitializeFileBlocksUpload"/>
<ActionImport Name="UploadBlock" Action="Microsoft.Dynamics.CRM.UploadBlock"/>
<ActionImport Name="CommitFileBlocksUpload" Action="Microsoft.Dynamics.CRM.CommitFileBlocksUpload"/>
<ActionImport Name="InitializeFileBlocksDownload" Action="Microsoft.Dynamics.CRM.InitializeFileBlocksDownload"/>
<ActionImport Name="DownloadBlock" Action="Microsoft.Dynamics.CRM.DownloadBlock"/>
<ActionImport Name="DeleteFile" Action="Microsoft.Dynamics.CRM.DeleteFile"/>
`
