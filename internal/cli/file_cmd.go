package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/d365s2s/d365/dataverse"
)

// fileOptions are the inputs of "d365 file upload" and "d365 file download".
type fileOptions struct {
	IO      *IOStreams
	Session func() (*session, error)
	Context context.Context
	Output  string

	upload    bool
	entitySet string
	id        uuid.UUID
	column    string
	path      string // "-": stdin or stdout
	name      string // upload: the file name stored; default the path's base name
	mimeType  string
	mode      dataverse.FileTransfer
	full      bool // download: an image's full-size copy
	retries   int  // resumptions after a failed chunk
}

// fileResumes is how many times a transfer resumes after a chunk that still failed after the
// client's own retries.
const fileResumes = 3

// newCmdFile returns "d365 file" with its upload and download commands. runF, when not nil,
// replaces fileRun (tests).
func newCmdFile(f *Factory, runF func(*fileOptions) error) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "file",
		Short: "Upload or download the file of a file or image column",
		Long: `Moves the file of a file or image column of one row, streaming: memory stays flat however large
the file is. Files above 4 MB go in 4 MB chunks; a chunk that still fails after the client's retries
is resumed from the last chunk the service acknowledged (up to 3 times).`,
	}
	cmd.AddCommand(newCmdFileTransfer(f, runF, true), newCmdFileTransfer(f, runF, false))
	return cmd
}

func newCmdFileTransfer(f *Factory, runF func(*fileOptions) error, upload bool) *cobra.Command {
	o := &fileOptions{IO: f.IOStreams, Session: f.Session, upload: upload, retries: fileResumes}
	run := runOrDefault(runF, fileRun)
	var mode string
	cmd := &cobra.Command{
		Use:   "download <entityset> <id> <column> <path>",
		Short: "Write a row's file or image to <path> (- for stdout)",
		Long: `Downloads the file of a file or image column to <path>, or to stdout with "-". The file is written
to "<path>.partial" and renamed when complete: a failed download leaves no <path>. An image column
gives its 144x144 thumbnail unless --full asks for the full-size image.

--mode auto and chunked use 4 MB Range requests, single one GET of $value, blocks the
InitializeFileBlocksDownload and DownloadBlock messages. A summary (name, size, bytes moved, mode)
goes to stdout, or to stderr when the file itself goes to stdout.`,
		Example: `  d365 file download accounts 6f7c…  sample_filecolumn ./contract.pdf
  d365 file download contacts 1b9…  entityimage ./photo.png --full`,
	}
	if upload {
		cmd.Use = "upload <entityset> <id> <column> <path>"
		cmd.Short = "Store <path> (- for stdin) as the file of a row's file or image column"
		cmd.Long = `Uploads <path>, or stdin with "-", as the file of a file or image column, replacing any file there.
The name stored is <path>'s base name unless --name gives another.

--mode auto sends files up to 4 MB in one request, larger ones in 4 MB chunks
(x-ms-transfer-mode: chunked), and stdin of unknown size in blocks; single, chunked and blocks
force one way (blocks: InitializeFileBlocksUpload, UploadBlock, CommitFileBlocksUpload). A file
larger than the column's MaxSizeInKB is refused by the service (exit 4) and leaves the column as
it was.`
		cmd.Example = `  d365 file upload accounts 6f7c… sample_filecolumn ./contract.pdf
  pg_dump mydb | d365 file upload new_backups 2a1… new_dump - --name mydb.sql`
		cmd.Flags().StringVar(&o.name, "name", "", "file name to store (default: the base name of <path>)")
		cmd.Flags().StringVar(&o.mimeType, "mime-type", "", "MIME type of a block upload (default: by the name's extension)")
	} else {
		cmd.Flags().BoolVar(&o.full, "full", false, "download an image column's full-size image, not its thumbnail")
	}
	cmd.Flags().StringVar(&mode, "mode", "auto", "transfer mode: auto, single, chunked or blocks")
	cmd.Args = exactArgs(4, "<entityset> <id> <column> <path>")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		o.entitySet, o.column, o.path = args[0], args[2], args[3]
		o.Context, o.Output = cmd.Context(), f.OutputFormat()
		id, err := uuid.Parse(args[1])
		if err != nil {
			return usageError(fmt.Errorf("%s: %q is not a record id (a GUID like 6f7c2d4e-…)", cmd.CommandPath(), args[1]))
		}
		o.id = id
		if o.mode, err = dataverse.ParseFileTransfer(mode); err != nil {
			return usageError(fmt.Errorf("--mode %q is unknown; use auto, single, chunked or blocks", mode))
		}
		if o.path == "" {
			return usageError(fmt.Errorf("%s: <path> is empty; give a file, or - for std%s", cmd.CommandPath(), map[bool]string{true: "in", false: "out"}[upload]))
		}
		if upload && o.name == "" {
			if o.path == "-" {
				return usageError(errors.New("d365 file upload -: reading stdin needs --name, the file name to store"))
			}
			o.name = filepath.Base(o.path)
		}
		return run(o)
	}
	return cmd
}

// fileSummary is what a transfer prints.
type fileSummary struct {
	FileID      string `json:"fileId,omitempty"`
	FileName    string `json:"fileName"`
	Size        int64  `json:"size"`
	Transferred int64  `json:"transferred"`
	Mode        string `json:"mode"`
	Resumed     int    `json:"resumed"`
}

func fileRun(o *fileOptions) error {
	s, err := o.Session()
	if err != nil {
		return err
	}
	var info *dataverse.FileInfo
	var resumed int
	if o.upload {
		info, resumed, err = o.uploadFile(s.client)
	} else {
		info, resumed, err = o.downloadFile(s.client)
	}
	if err != nil {
		return err
	}
	sum := fileSummary{FileName: info.Name, Size: info.Size, Transferred: info.Transferred, Mode: info.Mode.String(), Resumed: resumed}
	if info.FileID != uuid.Nil {
		sum.FileID = info.FileID.String()
	}
	out := o.IO.Out
	if !o.upload && o.path == "-" {
		out = o.IO.ErrOut
	}
	if o.Output == outputTable {
		return writeTable(out, []orderedObject{{
			{Key: "fileName", Value: jsonString(sum.FileName)},
			{Key: "size", Value: jsonString(strconv.FormatInt(sum.Size, 10))},
			{Key: "transferred", Value: jsonString(strconv.FormatInt(sum.Transferred, 10))},
			{Key: "mode", Value: jsonString(sum.Mode)},
		}}, nil)
	}
	return writeJSON(out, sum)
}

func (o *fileOptions) uploadFile(c *dataverse.Client) (*dataverse.FileInfo, int, error) {
	var r io.Reader = o.IO.In
	var seeker io.Seeker
	if o.path != "-" {
		f, err := os.Open(o.path)
		if err != nil {
			return nil, 0, usageError(fmt.Errorf("d365 file upload: %w", err))
		}
		defer f.Close()
		r, seeker = f, f
	}
	opts := &dataverse.FileUploadOptions{Mode: o.mode, MimeType: o.mimeType}
	size := int64(-1)
	if f, ok := r.(*os.File); ok && o.path != "-" {
		if st, err := f.Stat(); err == nil {
			size = st.Size()
		}
	}
	opts.Progress = o.progress(size, "uploading")
	for resumed := 0; ; resumed++ {
		info, err := c.UploadFile(o.Context, o.entitySet, o.id, o.column, o.name, r, opts)
		var fe *dataverse.FileTransferError
		if err == nil || !errors.As(err, &fe) || resumed == o.retries || seeker == nil {
			return info, resumed, err
		}
		// Resume reads from the start of the content and skips to the acknowledged offset; stdin
		// cannot go back to resend the chunk that failed, so it is not resumed.
		if _, serr := seeker.Seek(0, io.SeekStart); serr != nil {
			return nil, resumed, err
		}
		fmt.Fprintf(o.IO.ErrOut, "d365 file upload: resuming at byte %d after: %v\n", fe.Offset, fe.Err)
		opts.Resume = err
	}
}

func (o *fileOptions) downloadFile(c *dataverse.Client) (info *dataverse.FileInfo, resumed int, err error) {
	var w io.Writer = o.IO.Out
	var tmp *os.File
	if o.path != "-" {
		tmp, err = os.Create(o.path + ".partial")
		if err != nil {
			return nil, 0, usageError(fmt.Errorf("d365 file download: %w", err))
		}
		defer func() {
			if cerr := tmp.Close(); err == nil && cerr != nil {
				err = cerr
			}
			if err != nil {
				os.Remove(tmp.Name())
				return
			}
			err = os.Rename(tmp.Name(), o.path)
		}()
		w = tmp
	}
	opts := &dataverse.FileDownloadOptions{Mode: o.mode, FullImage: o.full, Progress: o.progress(-1, "downloading")}
	for resumed = 0; ; resumed++ {
		info, err = c.DownloadFile(o.Context, o.entitySet, o.id, o.column, w, opts)
		var fe *dataverse.FileTransferError
		if err == nil || !errors.As(err, &fe) || resumed == o.retries {
			if errors.Is(err, dataverse.ErrNoFile) {
				err = fmt.Errorf("d365 file download: %s(%s) has no file in %s%s: %w", o.entitySet, o.id, o.column,
					map[bool]string{true: " (or keeps no full-size image)", false: ""}[o.full], err)
			}
			return info, resumed, err
		}
		fmt.Fprintf(o.IO.ErrOut, "d365 file download: resuming at byte %d after: %v\n", fe.Offset, fe.Err)
		opts.Resume = err
	}
}

// progress returns a byte progress bar on stderr when it is a terminal (nil otherwise: the
// summary line is the report); size -1 shows a spinner with the bytes moved.
func (o *fileOptions) progress(size int64, what string) func(int64) {
	if !isTerminal(o.IO.ErrOut) {
		return nil
	}
	bar := progressbar.NewOptions64(size,
		progressbar.OptionSetWriter(o.IO.ErrOut),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowBytes(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetWidth(30),
		progressbar.OptionClearOnFinish(),
	)
	return func(n int64) { _ = bar.Set64(n) }
}
