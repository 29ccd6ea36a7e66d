package dataverse_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/google/uuid"

	"github.com/d365s2s/d365/dataverse"
	"github.com/d365s2s/d365/emulator"
)

// filesScenario has a table with a file column of the default limit (32 MB), a file column
// of 1 MB, an image column that keeps full-size images and one that keeps only thumbnails.
const filesScenario = `
tenants:
  - domain: files.onmicrosoft.com
apps:
  - name: files-app
    secrets:
      - value: "files~scenario~secret~for~the~emulator~only"
applicationUsers:
  - app: files-app
    roles: [System Administrator]
schema:
  tables:
    - logicalName: new_document
      primaryNameColumn: new_name
      columns:
        - {logicalName: new_name, type: String}
        - {logicalName: new_file, type: File}
        - {logicalName: new_small, type: File, maxSizeInKB: 1024}
        - {logicalName: new_photo, type: Image, canStoreFullImage: true}
        - {logicalName: new_avatar, type: Image, maxSizeInKB: 64}
`

func newFilesEnv(t *testing.T, setup *e2eSetup) *e2eEnv {
	t.Helper()
	sc, err := emulator.ParseScenario([]byte(filesScenario), "files.yaml")
	if err != nil {
		t.Fatalf("scenario: %v", err)
	}
	if setup == nil {
		setup = &e2eSetup{}
	}
	setup.emulator = &emulator.Options{Scenario: sc}
	return newE2E(t, setup)
}

func newDocument(t *testing.T, env *e2eEnv, name string) uuid.UUID {
	t.Helper()
	res, err := env.client.Create(t.Context(), "new_documents", map[string]any{"new_name": name}, nil)
	if err != nil {
		t.Fatalf("create new_document: %v", err)
	}
	return res.ID
}

// randomBytes returns n bytes of a fixed pseudo-random stream.
func randomBytes(n int, seed uint64) []byte {
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)})
	b := make([]byte, n)
	_, _ = r.Read(b)
	return b
}

// hashWriter is an io.Writer that keeps only the sha256 and the length of what it receives.
type hashWriter struct {
	h interface {
		io.Writer
		Sum([]byte) []byte
	}
	n int64
}

func newHashWriter() *hashWriter { return &hashWriter{h: sha256.New()} }

func (w *hashWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return w.h.Write(p) }
func (w *hashWriter) sum() [32]byte               { return [32]byte(w.h.Sum(nil)) }

// TestE2EFileRoundTrips sends a 20 MB file up through each upload path and back through each
// download path; every download's sha256 equals the upload's, and the row shows the file id and
// name. Under the race detector the file is 9 MB (still three chunks).
func TestE2EFileRoundTrips(t *testing.T) {
	t.Parallel()
	env := newFilesEnv(t, nil)
	ctx := t.Context()
	size := 20 << 20
	if raceEnabled {
		size = 9 << 20
	}
	content := randomBytes(size, 20)
	want := sha256.Sum256(content)

	for _, up := range []dataverse.FileTransfer{dataverse.FileTransferSingle, dataverse.FileTransferChunked, dataverse.FileTransferBlocks} {
		t.Run("upload "+up.String(), func(t *testing.T) {
			id := newDocument(t, env, "round trip "+up.String())
			name := "report-" + up.String() + ".pdf"
			var calls int
			info, err := env.client.UploadFile(ctx, "new_documents", id, "new_file", name, bytes.NewReader(content),
				&dataverse.FileUploadOptions{Mode: up, Progress: func(int64) { calls++ }})
			if err != nil {
				t.Fatalf("UploadFile: %v", err)
			}
			if info.Mode != up || info.Size != int64(size) || info.Transferred != int64(size) {
				t.Errorf("UploadFile = %+v, want mode %v and %d bytes", info, up, size)
			}
			if chunks := (size + 4<<20 - 1) / (4 << 20); up != dataverse.FileTransferSingle && calls != chunks {
				t.Errorf("Progress called %d times for %d chunks of 4 MB", calls, chunks)
			}
			var rec dataverse.Record
			err = env.client.Retrieve(ctx, "new_documents", id, &rec, &dataverse.RetrieveOptions{Select: []string{"new_file", "new_file_name"}})
			if err != nil {
				t.Fatalf("retrieve the row: %v", err)
			}
			fileID, _ := rec.String("new_file")
			if gotName, _ := rec.String("new_file_name"); gotName != name {
				t.Errorf("new_file_name = %q, want %q", gotName, name)
			}
			if _, err := uuid.Parse(fileID); err != nil {
				t.Errorf("new_file = %q, want the file id", fileID)
			}
			if up == dataverse.FileTransferBlocks && info.FileID.String() != fileID {
				t.Errorf("CommitFileBlocksUpload FileId %v, row says %s", info.FileID, fileID)
			}
			for _, down := range []dataverse.FileTransfer{dataverse.FileTransferSingle, dataverse.FileTransferChunked, dataverse.FileTransferBlocks} {
				w := newHashWriter()
				got, err := env.client.DownloadFile(ctx, "new_documents", id, "new_file", w, &dataverse.FileDownloadOptions{Mode: down})
				if err != nil {
					t.Fatalf("DownloadFile %v: %v", down, err)
				}
				if w.sum() != want || w.n != int64(size) {
					t.Errorf("download %v: %d bytes with another sha256", down, w.n)
				}
				if got.Size != int64(size) || got.Name != name {
					t.Errorf("download %v: FileInfo %+v, want size %d name %q", down, got, size, name)
				}
			}
		})
	}
}

// TestE2EFileRange checks Range answers on $value: 206 with Content-Range and the size and name
// headers, the bytes asked for, and 416 past the end.
func TestE2EFileRange(t *testing.T) {
	t.Parallel()
	env := newFilesEnv(t, nil)
	ctx := t.Context()
	id := newDocument(t, env, "range")
	content := randomBytes(10_000, 3)
	if _, err := env.client.UploadFile(ctx, "new_documents", id, "new_file", "r.bin", bytes.NewReader(content), nil); err != nil {
		t.Fatal(err)
	}
	path := "new_documents(" + id.String() + ")/new_file/$value"
	for _, tc := range []struct {
		rangeHeader, contentRange string
		from, to                  int
	}{
		{"bytes=0-99", "bytes 0-99/10000", 0, 100},
		{"bytes=9990-", "bytes 9990-9999/10000", 9990, 10000},
		{"bytes=-5", "bytes 9995-9999/10000", 9995, 10000},
		{"bytes=9000-20000", "bytes 9000-9999/10000", 9000, 10000},
	} {
		resp, err := env.client.Do(ctx, "GET", path, nil, &dataverse.DoOptions{RequestOptions: dataverse.RequestOptions{Header: http.Header{"Range": {tc.rangeHeader}}}})
		if err != nil {
			t.Fatalf("%s: %v", tc.rangeHeader, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusPartialContent || resp.Header.Get("Content-Range") != tc.contentRange ||
			resp.Header.Get("x-ms-file-size") != "10000" || resp.Header.Get("x-ms-file-name") != "r.bin" {
			t.Errorf("%s: %d Content-Range %q size %q name %q", tc.rangeHeader, resp.StatusCode,
				resp.Header.Get("Content-Range"), resp.Header.Get("x-ms-file-size"), resp.Header.Get("x-ms-file-name"))
		}
		if !bytes.Equal(body, content[tc.from:tc.to]) {
			t.Errorf("%s: got %d bytes, not bytes %d-%d", tc.rangeHeader, len(body), tc.from, tc.to-1)
		}
	}
	_, err := env.client.Do(ctx, "GET", path, nil, &dataverse.DoOptions{RequestOptions: dataverse.RequestOptions{Header: http.Header{"Range": {"bytes=10000-"}}}})
	wantResponseError(t, "range past the end", err, http.StatusRequestedRangeNotSatisfiable, "0x80090000")
}

// TestE2EFileTooLarge: a file over MaxSizeInKB is refused with the documented code through every
// upload path, and leaves the column empty.
func TestE2EFileTooLarge(t *testing.T) {
	t.Parallel()
	env := newFilesEnv(t, nil)
	ctx := t.Context()
	content := randomBytes(1024*1024+1, 7)
	for _, mode := range []dataverse.FileTransfer{dataverse.FileTransferSingle, dataverse.FileTransferChunked, dataverse.FileTransferBlocks} {
		id := newDocument(t, env, "too large "+mode.String())
		_, err := env.client.UploadFile(ctx, "new_documents", id, "new_small", "big.bin", bytes.NewReader(content),
			&dataverse.FileUploadOptions{Mode: mode, ChunkThreshold: 256 << 10})
		re := wantResponseError(t, mode.String()+" upload over 1024 KB", err, http.StatusBadRequest, "0x80044a02")
		if !strings.Contains(re.Message, "Attachment file size is too big.") {
			t.Errorf("%v: message %q", mode, re.Message)
		}
		if _, err := env.client.DownloadFile(ctx, "new_documents", id, "new_small", io.Discard, nil); !errors.Is(err, dataverse.ErrNoFile) {
			t.Errorf("%v: after a refused upload DownloadFile = %v, want ErrNoFile", mode, err)
		}
	}
	// An image over its column's limit: ProcessImageFailure.
	id := newDocument(t, env, "big image")
	_, err := env.client.UploadFile(ctx, "new_documents", id, "new_avatar", "big.png", bytes.NewReader(pngImage(t, 400, 400, true)), nil)
	wantResponseError(t, "image over 64 KB", err, http.StatusBadRequest, "0x80072553")
}

// pngImage encodes a w×h PNG; noisy pixels make it large.
func pngImage(t *testing.T, w, h int, noisy bool) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(1, 2))
	for y := range h {
		for x := range w {
			c := color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), 128, 255}
			if noisy {
				c.B = uint8(r.IntN(256))
			}
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestE2EImageThumbnailAndFull: an image column answers a 144×144 thumbnail (also in the row as
// base64) and, with FullImage, the bytes uploaded; a column that keeps no full image answers
// ErrNoFile for it.
func TestE2EImageThumbnailAndFull(t *testing.T) {
	t.Parallel()
	env := newFilesEnv(t, nil)
	ctx := t.Context()
	id := newDocument(t, env, "image")
	original := pngImage(t, 300, 200, false)
	for _, col := range []string{"new_photo", "new_avatar"} {
		if _, err := env.client.UploadFile(ctx, "new_documents", id, col, "photo.png", bytes.NewReader(original), nil); err != nil {
			t.Fatalf("upload %s: %v", col, err)
		}
	}
	var thumb bytes.Buffer
	if _, err := env.client.DownloadFile(ctx, "new_documents", id, "new_photo", &thumb, nil); err != nil {
		t.Fatal(err)
	}
	img, format, err := image.Decode(bytes.NewReader(thumb.Bytes()))
	if err != nil {
		t.Fatalf("thumbnail does not decode: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 144 || b.Dy() != 144 || format != "png" {
		t.Errorf("thumbnail is a %dx%d %s, want a 144x144 png", b.Dx(), b.Dy(), format)
	}
	// The thumbnail is a real downscale of the centred square: its top-left pixel is the
	// colour near (50, 0) of the original (red ~42, green ~0).
	if r, g, _, _ := img.At(0, 0).RGBA(); r>>8 < 35 || r>>8 > 50 || g>>8 > 5 {
		t.Errorf("thumbnail pixel (0,0) = %v, want the original's colour near (50,0)", img.At(0, 0))
	}
	var rec dataverse.Record
	err = env.client.Retrieve(ctx, "new_documents", id, &rec, &dataverse.RetrieveOptions{Select: []string{"new_photo", "new_photoid", "new_photo_timestamp"}})
	if err != nil {
		t.Fatal(err)
	}
	inRow, _ := rec.String("new_photo")
	if inRow != base64.StdEncoding.EncodeToString(thumb.Bytes()) {
		t.Errorf("the row's new_photo is not the thumbnail's base64 (%d chars)", len(inRow))
	}
	var full bytes.Buffer
	if _, err := env.client.DownloadFile(ctx, "new_documents", id, "new_photo", &full, &dataverse.FileDownloadOptions{FullImage: true}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(full.Bytes(), original) {
		t.Errorf("full image: %d bytes, not the %d uploaded", full.Len(), len(original))
	}
	var blocks bytes.Buffer
	if _, err := env.client.DownloadFile(ctx, "new_documents", id, "new_photo", &blocks, &dataverse.FileDownloadOptions{Mode: dataverse.FileTransferBlocks}); err != nil || !bytes.Equal(blocks.Bytes(), original) {
		t.Errorf("block download of an image = %d bytes, %v; want the full image", blocks.Len(), err)
	}
	if _, err := env.client.DownloadFile(ctx, "new_documents", id, "new_avatar", io.Discard, &dataverse.FileDownloadOptions{FullImage: true}); !errors.Is(err, dataverse.ErrNoFile) {
		t.Errorf("full image of a thumbnail-only column: %v, want ErrNoFile", err)
	}
	var small bytes.Buffer
	if _, err := env.client.DownloadFile(ctx, "new_documents", id, "new_avatar", &small, nil); err != nil || small.Len() == 0 {
		t.Errorf("thumbnail of the thumbnail-only column: %d bytes, %v", small.Len(), err)
	}
	_, err = env.client.UploadFile(ctx, "new_documents", id, "new_photo", "notes.txt", strings.NewReader("not an image"), nil)
	wantResponseError(t, "text into an image column", err, http.StatusBadRequest, "0x80072553")
	// An update of the row sets the image from base64, and null deletes it.
	second := pngImage(t, 100, 130, false)
	if _, err := env.client.Update(ctx, "new_documents", id, map[string]any{"new_photo": second, "new_name": "image 2"}, nil); err != nil {
		t.Fatalf("PATCH with the image's base64: %v", err)
	}
	full.Reset()
	if _, err := env.client.DownloadFile(ctx, "new_documents", id, "new_photo", &full, &dataverse.FileDownloadOptions{FullImage: true}); err != nil || !bytes.Equal(full.Bytes(), second) {
		t.Errorf("after PATCH, the full image is %d bytes (%v), want the %d sent", full.Len(), err, len(second))
	}
	thumb.Reset()
	if _, err := env.client.DownloadFile(ctx, "new_documents", id, "new_photo", &thumb, nil); err != nil {
		t.Fatal(err)
	}
	if img, _, err := image.Decode(&thumb); err != nil || img.Bounds().Dx() != 100 || img.Bounds().Dy() != 100 {
		t.Errorf("thumbnail of a 100x130 image: %v, %v; want 100x100", img.Bounds(), err)
	}
	if _, err := env.client.Update(ctx, "new_documents", id, map[string]any{"new_photo": nil}, nil); err != nil {
		t.Fatalf("PATCH new_photo null: %v", err)
	}
	if _, err := env.client.DownloadFile(ctx, "new_documents", id, "new_photo", io.Discard, nil); !errors.Is(err, dataverse.ErrNoFile) {
		t.Errorf("after PATCH null: %v, want ErrNoFile", err)
	}
	// A create with the primary image's base64 stores it with the new row ("Set with Create").
	created, err := env.client.Create(ctx, "new_documents", map[string]any{"new_name": "image on create", "new_photo": second}, nil)
	if err != nil {
		t.Fatalf("POST with the image's base64: %v", err)
	}
	full.Reset()
	if _, err := env.client.DownloadFile(ctx, "new_documents", created.ID, "new_photo", &full, &dataverse.FileDownloadOptions{FullImage: true}); err != nil || !bytes.Equal(full.Bytes(), second) {
		t.Errorf("after POST, the full image is %d bytes (%v), want the %d sent", full.Len(), err, len(second))
	}
}

// TestE2EFileDelete: DELETE on the column and the DeleteFile message empty the column, and
// deleting the row deletes its file.
func TestE2EFileDelete(t *testing.T) {
	t.Parallel()
	env := newFilesEnv(t, nil)
	ctx := t.Context()
	id := newDocument(t, env, "delete")
	upload := func() *dataverse.FileInfo {
		t.Helper()
		info, err := env.client.UploadFile(ctx, "new_documents", id, "new_file", "a.txt", strings.NewReader("some text"), &dataverse.FileUploadOptions{Mode: dataverse.FileTransferBlocks})
		if err != nil {
			t.Fatal(err)
		}
		return info
	}
	upload()
	if _, err := env.client.Do(ctx, "DELETE", "new_documents("+id.String()+")/new_file", nil, nil); err != nil {
		t.Fatalf("DELETE the column: %v", err)
	}
	if _, err := env.client.DownloadFile(ctx, "new_documents", id, "new_file", io.Discard, nil); !errors.Is(err, dataverse.ErrNoFile) {
		t.Errorf("after DELETE: %v, want ErrNoFile", err)
	}
	info := upload()
	body := strings.NewReader(`{"FileId":"` + info.FileID.String() + `"}`)
	if _, err := env.client.Do(ctx, "POST", "DeleteFile", body, nil); err != nil {
		t.Fatalf("DeleteFile: %v", err)
	}
	var rec dataverse.Record
	err := env.client.Retrieve(ctx, "new_documents", id, &rec, &dataverse.RetrieveOptions{Select: []string{"new_file", "new_file_name"}})
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := rec["new_file"]; !ok || v != nil {
		t.Errorf("after DeleteFile new_file = %v", v)
	}
	upload()
	if err := env.client.Delete(ctx, "new_documents", id, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := env.client.Create(ctx, "new_documents", map[string]any{"new_documentid": id, "new_name": "again"}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := env.client.DownloadFile(ctx, "new_documents", id, "new_file", io.Discard, nil); !errors.Is(err, dataverse.ErrNoFile) {
		t.Errorf("a row created with a deleted row's id has its file: %v", err)
	}
}

// failingChunks fails the first attempt of every request whose Content-Range or Range starts at
// failAt, with a 400 the client does not retry.
type failingChunks struct {
	next   policy.Transporter
	failAt string
	failed atomic.Bool
	starts rangeCounts
}

// rangeCounts counts requests by the start of their range.
type rangeCounts struct {
	mu sync.Mutex
	m  map[string]int
}

func (s *rangeCounts) add(k string) {
	s.mu.Lock()
	s.m[k]++
	s.mu.Unlock()
}

func (f *failingChunks) Do(req *http.Request) (*http.Response, error) {
	start := rangeStart(req.Header.Get("Content-Range"), req.Header.Get("Range"))
	if start != "" {
		f.starts.add(start)
	}
	if start == f.failAt && f.failed.CompareAndSwap(false, true) {
		return &http.Response{StatusCode: http.StatusBadRequest, Header: http.Header{"Content-Type": {"application/json"}},
			Body:    io.NopCloser(strings.NewReader(`{"error":{"code":"0x0","message":"injected failure"}}`)),
			Request: req}, nil
	}
	return f.next.Do(req)
}

func rangeStart(contentRange, rangeHeader string) string {
	if s, ok := strings.CutPrefix(contentRange, "bytes "); ok {
		start, _, _ := strings.Cut(s, "-")
		return start
	}
	if s, ok := strings.CutPrefix(rangeHeader, "bytes="); ok {
		start, _, _ := strings.Cut(s, "-")
		return start
	}
	return ""
}

// TestE2EFileResume: a chunked upload and a ranged download that fail at the third chunk resume
// from it with the returned *FileTransferError; no chunk before it is sent twice, and the file
// arrives whole.
func TestE2EFileResume(t *testing.T) {
	t.Parallel()
	const size = 10 << 20
	content := randomBytes(size, 9)
	want := sha256.Sum256(content)
	failAt := "8388608" // the third 4 MB chunk
	var ft *failingChunks
	env := newFilesEnv(t, &e2eSetup{client: func(o *dataverse.ClientOptions) {
		ft = &failingChunks{next: o.Transport, failAt: failAt, starts: rangeCounts{m: map[string]int{}}}
		o.Transport = ft
	}})
	ctx := t.Context()
	id := newDocument(t, env, "resume")

	_, err := env.client.UploadFile(ctx, "new_documents", id, "new_file", "big.bin", bytes.NewReader(content), &dataverse.FileUploadOptions{Mode: dataverse.FileTransferChunked})
	var fe *dataverse.FileTransferError
	if !errors.As(err, &fe) || fe.Offset != 8<<20 || fe.Size != size {
		t.Fatalf("UploadFile with a failing third chunk = %v, want a *FileTransferError at 8 MB", err)
	}
	info, err := env.client.UploadFile(ctx, "new_documents", id, "new_file", "big.bin", bytes.NewReader(content), &dataverse.FileUploadOptions{Resume: err})
	if err != nil {
		t.Fatalf("resumed UploadFile: %v", err)
	}
	if info.Transferred != size-8<<20 {
		t.Errorf("the resumed upload sent %d bytes, want the last %d", info.Transferred, size-8<<20)
	}
	for _, start := range []string{"0", "4194304"} {
		if n := ft.starts.m[start]; n != 1 {
			t.Errorf("upload chunk at %s sent %d times, want once", start, n)
		}
	}

	ft.failed.Store(false)
	clear(ft.starts.m)
	var got bytes.Buffer
	_, err = env.client.DownloadFile(ctx, "new_documents", id, "new_file", &got, nil)
	if !errors.As(err, &fe) || fe.Offset != 8<<20 || int64(got.Len()) != fe.Offset {
		t.Fatalf("DownloadFile with a failing third chunk = %v (writer holds %d bytes)", err, got.Len())
	}
	if _, err := env.client.DownloadFile(ctx, "new_documents", id, "new_file", &got, &dataverse.FileDownloadOptions{Resume: err}); err != nil {
		t.Fatalf("resumed DownloadFile: %v", err)
	}
	if sha256.Sum256(got.Bytes()) != want {
		t.Errorf("the resumed download (%d bytes) differs from the upload", got.Len())
	}
	for _, start := range []string{"0", "4194304"} {
		if n := ft.starts.m[start]; n != 1 {
			t.Errorf("download chunk at %s requested %d times, want once", start, n)
		}
	}
}

// TestE2EFilePrivileges: file columns follow the table's privileges as other columns do: a user
// who may only read new_document downloads its file but cannot upload, delete or start a block
// upload (403), and its refused upload leaves the file as it was.
func TestE2EFilePrivileges(t *testing.T) {
	t.Parallel()
	env := newFilesEnv(t, nil)
	ctx := t.Context()
	id := newDocument(t, env, "privileges")
	if _, err := env.client.UploadFile(ctx, "new_documents", id, "new_file", "kept.txt", strings.NewReader("kept"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := env.emu.CreateRole(ctx, "Document reader", []emulator.RolePrivilege{{Name: "prvReadnew_document", Depth: emulator.DepthOrganization}}); err != nil {
		t.Fatal(err)
	}
	app, err := env.emu.CreateApp(ctx, emulator.NewApp{DisplayName: "document reader"})
	if err != nil {
		t.Fatal(err)
	}
	_, secret, err := env.emu.AddSecret(ctx, app.ClientID, emulator.NewSecret{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.emu.CreateApplicationUser(ctx, emulator.NewApplicationUser{App: app.ClientID, Roles: []string{"Document reader"}}); err != nil {
		t.Fatal(err)
	}
	cred := appSecretCredential(t, env.emu, app.TenantID, app.ClientID, secret)
	reader := newClient(t, env.emu, cred, nil)

	var got bytes.Buffer
	if _, err := reader.DownloadFile(ctx, "new_documents", id, "new_file", &got, nil); err != nil || got.String() != "kept" {
		t.Fatalf("a reader's download = %q, %v", got.String(), err)
	}
	for _, mode := range []dataverse.FileTransfer{dataverse.FileTransferSingle, dataverse.FileTransferChunked, dataverse.FileTransferBlocks} {
		_, err := reader.UploadFile(ctx, "new_documents", id, "new_file", "x.txt", strings.NewReader("replaced"), &dataverse.FileUploadOptions{Mode: mode})
		if !dataverse.IsForbidden(err) {
			t.Errorf("a reader's %v upload: %v, want 403", mode, err)
		}
	}
	if _, err := reader.Do(ctx, "DELETE", "new_documents("+id.String()+")/new_file", nil, nil); !dataverse.IsForbidden(err) {
		t.Errorf("a reader's DELETE of the file: %v, want 403", err)
	}
	got.Reset()
	if _, err := env.client.DownloadFile(ctx, "new_documents", id, "new_file", &got, nil); err != nil || got.String() != "kept" {
		t.Errorf("after the refusals the file is %q (%v), want it unchanged", got.String(), err)
	}
}

// failingBlocks fails the second UploadBlock request with a 400 the client does not retry.
type failingBlocks struct {
	next   policy.Transporter
	blocks atomic.Int32
}

func (f *failingBlocks) Do(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.URL.Path, "/UploadBlock") && f.blocks.Add(1) == 2 {
		return &http.Response{StatusCode: http.StatusBadRequest, Header: http.Header{"Content-Type": {"application/json"}},
			Body:    io.NopCloser(strings.NewReader(`{"error":{"code":"0x0","message":"injected failure"}}`)),
			Request: req}, nil
	}
	return f.next.Do(req)
}

// TestE2EFileResumeBlocks: a block upload that fails at its second block resumes with the blocks
// already sent, and commits the whole file.
func TestE2EFileResumeBlocks(t *testing.T) {
	t.Parallel()
	const size = 9 << 20
	content := randomBytes(size, 13)
	var fb *failingBlocks
	env := newFilesEnv(t, &e2eSetup{client: func(o *dataverse.ClientOptions) {
		fb = &failingBlocks{next: o.Transport}
		o.Transport = fb
	}})
	ctx := t.Context()
	id := newDocument(t, env, "resume blocks")
	opts := &dataverse.FileUploadOptions{Mode: dataverse.FileTransferBlocks}
	_, err := env.client.UploadFile(ctx, "new_documents", id, "new_file", "blocks.bin", bytes.NewReader(content), opts)
	var fe *dataverse.FileTransferError
	if !errors.As(err, &fe) || fe.Offset != 4<<20 {
		t.Fatalf("UploadFile with a failing second block = %v, want a *FileTransferError at 4 MB", err)
	}
	opts.Resume = err
	info, err := env.client.UploadFile(ctx, "new_documents", id, "new_file", "blocks.bin", bytes.NewReader(content), opts)
	if err != nil {
		t.Fatalf("resumed block upload: %v", err)
	}
	if info.Size != size || info.Transferred != size-4<<20 || fb.blocks.Load() != 4 {
		t.Errorf("resumed block upload = %+v after %d UploadBlock requests, want the last %d bytes in 2 more blocks", info, fb.blocks.Load(), size-4<<20)
	}
	w := newHashWriter()
	if _, err := env.client.DownloadFile(ctx, "new_documents", id, "new_file", w, nil); err != nil || w.sum() != sha256.Sum256(content) {
		t.Errorf("the resumed block upload stored %d bytes with another sha256 (%v)", w.n, err)
	}
}

// TestE2EImageInBulkMessages: CreateMultiple, UpdateMultiple and UpsertMultiple store an image
// column's base64 as a single create or update does, instead of dropping it.
func TestE2EImageInBulkMessages(t *testing.T) {
	t.Parallel()
	env := newFilesEnv(t, nil)
	ctx := t.Context()
	first, second, third := pngImage(t, 60, 40, false), pngImage(t, 80, 90, false), pngImage(t, 30, 30, false)
	fullImage := func(id uuid.UUID) []byte {
		t.Helper()
		var b bytes.Buffer
		if _, err := env.client.DownloadFile(ctx, "new_documents", id, "new_photo", &b, &dataverse.FileDownloadOptions{FullImage: true}); err != nil {
			t.Errorf("full image of %v: %v", id, err)
		}
		return b.Bytes()
	}
	ids, err := dataverse.CreateMultiple(ctx, env.client, "new_documents", "new_document",
		[]map[string]any{{"new_name": "bulk image", "new_photo": first}}, nil)
	if err != nil || len(ids) != 1 {
		t.Fatalf("CreateMultiple: %v, %v", ids, err)
	}
	if got := fullImage(ids[0]); !bytes.Equal(got, first) {
		t.Errorf("after CreateMultiple: %d bytes, want the %d sent", len(got), len(first))
	}
	err = dataverse.UpdateMultiple(ctx, env.client, "new_documents", "new_document",
		[]map[string]any{{"new_documentid": ids[0].String(), "new_photo": second}}, nil)
	if err != nil {
		t.Fatalf("UpdateMultiple: %v", err)
	}
	if got := fullImage(ids[0]); !bytes.Equal(got, second) {
		t.Errorf("after UpdateMultiple: %d bytes, want the %d sent", len(got), len(second))
	}
	err = dataverse.UpsertMultiple(ctx, env.client, "new_documents", "new_document",
		[]map[string]any{{"new_documentid": ids[0].String(), "new_photo": third}}, nil)
	if err != nil {
		t.Fatalf("UpsertMultiple: %v", err)
	}
	if got := fullImage(ids[0]); !bytes.Equal(got, third) {
		t.Errorf("after UpsertMultiple: %d bytes, want the %d sent", len(got), len(third))
	}
}
