package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/d365s2s/d365/dataverse"
)

// exportDestination is where an export writes: stdout, a special file (/dev/null, a pipe)
// written in place, or a regular file written to a temporary file and renamed when complete.
type exportDestination struct {
	name   string // for messages: "stdout" or the --out path
	w      io.Writer
	file   *os.File // the temporary (or partial) file, nil for stdout and special files
	target string   // the --out path the file becomes
	done   bool
	ckpt   *exportCheckpoint
}

// exportCheckpointVersion is the version of the checkpoint file format.
const exportCheckpointVersion = 1

// exportCheckpoint is the --checkpoint file: the command it belongs to and the export's state.
type exportCheckpoint struct {
	Version int                    `json:"version"`
	Command string                 `json:"command"` // the query and output it was made for, compared on resume
	Partial string                 `json:"partial"`
	State   *dataverse.ExportState `json:"state,omitempty"`

	path   string
	resume *dataverse.ExportState
}

// openExportDestination opens --out (or stdout) and, with --checkpoint, the partial output to
// resume.
func openExportDestination(o *exportOptions, eo *dataverse.ExportOptions) (*exportDestination, error) {
	if o.out == "" {
		return &exportDestination{name: "stdout", w: o.IO.Out}, nil
	}
	d := &exportDestination{name: o.out, target: o.out}
	if fi, err := os.Stat(o.out); err == nil && !fi.Mode().IsRegular() {
		if fi.IsDir() {
			return nil, usageError(fmt.Errorf("--out %s is a directory; name a file", o.out))
		}
		if o.checkpoint != "" {
			return nil, usageError(fmt.Errorf("--out %s is not a regular file, so the export cannot be resumed; drop --checkpoint", o.out))
		}
		f, err := os.OpenFile(o.out, os.O_WRONLY, 0)
		if err != nil {
			return nil, fmt.Errorf("open --out %s: %w", o.out, err)
		}
		d.file, d.target, d.w = f, "", f
		return d, nil
	}
	if o.checkpoint != "" {
		return d, d.openResumable(o, eo)
	}
	dir, base := filepath.Split(o.out)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return nil, usageError(fmt.Errorf("--out %s: cannot create a file in %s: %w", o.out, dir, err))
	}
	d.file, d.w = f, f
	return d, nil
}

// openResumable opens <out>.partial, truncated to the length the checkpoint recorded, or a new
// one when there is no checkpoint yet.
func (d *exportDestination) openResumable(o *exportOptions, eo *dataverse.ExportOptions) error {
	command, err := exportCommandKey(o, eo)
	if err != nil {
		return err
	}
	c := &exportCheckpoint{Version: exportCheckpointVersion, Command: command, Partial: o.out + ".partial", path: o.checkpoint}
	data, err := os.ReadFile(o.checkpoint)
	switch {
	case errors.Is(err, os.ErrNotExist):
		f, err := os.OpenFile(c.Partial, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
		if err != nil {
			return usageError(fmt.Errorf("--out %s: cannot create %s: %w", o.out, c.Partial, err))
		}
		d.file, d.w, d.ckpt = f, f, c
		return nil
	case err != nil:
		return usageError(fmt.Errorf("read --checkpoint %s: %w", o.checkpoint, err))
	}
	var saved exportCheckpoint
	if err := json.Unmarshal(data, &saved); err != nil || saved.Version != exportCheckpointVersion {
		return usageError(fmt.Errorf("--checkpoint %s is not a d365 export checkpoint (version %d); delete it to start over", o.checkpoint, exportCheckpointVersion))
	}
	if saved.Command != command {
		return usageError(fmt.Errorf("--checkpoint %s belongs to another export (%s); run that command to resume it, or delete the file to start this one", o.checkpoint, saved.Command))
	}
	f, err := os.OpenFile(c.Partial, os.O_WRONLY, 0)
	if err != nil {
		return usageError(fmt.Errorf("--checkpoint %s: the partial output %s is gone (%v); delete the checkpoint to start over", o.checkpoint, c.Partial, err))
	}
	if saved.State != nil {
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return err
		}
		if fi.Size() < saved.State.Bytes {
			f.Close()
			return usageError(fmt.Errorf("--checkpoint %s: %s holds %d bytes, fewer than the %d recorded; delete both to start over", o.checkpoint, c.Partial, fi.Size(), saved.State.Bytes))
		}
		// Bytes written after the last checkpoint belong to a page that is read again.
		if err := f.Truncate(saved.State.Bytes); err != nil {
			f.Close()
			return err
		}
		if _, err := f.Seek(saved.State.Bytes, io.SeekStart); err != nil {
			f.Close()
			return err
		}
		c.resume = saved.State
	} else if err := f.Truncate(0); err != nil {
		f.Close()
		return err
	}
	d.file, d.w, d.ckpt = f, f, c
	return nil
}

// exportCommandKey identifies an export's query and output, so a checkpoint resumes only the
// export it was made for.
func exportCommandKey(o *exportOptions, eo *dataverse.ExportOptions) (string, error) {
	key := struct {
		EntitySet, Filter, FetchXML, Format, PartitionKey string
		Select, OrderBy                                   []string
		Top, PageSize, Parallel                           int
		Formatted                                         bool
	}{o.entitySet, o.filter, eo.FetchXML, o.format, o.partitionKey, slices.Clone(o.selectCols), slices.Clone(o.orderBy), o.top, o.pageSize, o.parallel, o.formatted}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(key); err != nil {
		return "", err
	}
	return string(bytes.TrimSpace(b.Bytes())), nil
}

// saveCheckpoint makes the output durable up to the state, then replaces the checkpoint file
// atomically (write a temporary file, sync, rename).
func (d *exportDestination) saveCheckpoint(st dataverse.ExportState) error {
	if err := d.file.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", d.ckpt.Partial, err)
	}
	d.ckpt.State = &st
	data, err := json.Marshal(d.ckpt)
	if err != nil {
		return err
	}
	return writeFileAtomic(d.ckpt.path, data)
}

// writeFileAtomic replaces path with data: other processes see the old file or the new one.
func writeFileAtomic(path string, data []byte) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// commit makes a complete export visible: sync, close and rename the file to --out, and drop
// the checkpoint.
func (d *exportDestination) commit() error {
	if d.file == nil {
		d.done = true
		return nil
	}
	var err error
	if d.target != "" {
		err = d.file.Sync()
	}
	if cerr := d.file.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", d.name, err)
	}
	if d.target != "" {
		if err := os.Rename(d.file.Name(), d.target); err != nil {
			return fmt.Errorf("write %s: %w", d.name, err)
		}
	}
	d.done = true
	if d.ckpt != nil {
		if err := os.Remove(d.ckpt.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("the export is complete in %s, but its checkpoint could not be removed: %w", d.name, err)
		}
	}
	return nil
}

// abort cleans up after a failed export: the temporary file goes; with a checkpoint the
// partial output stays for the resume.
func (d *exportDestination) abort() {
	if d.done || d.file == nil {
		return
	}
	d.file.Close()
	if d.target != "" && d.ckpt == nil {
		os.Remove(d.file.Name())
	}
}

// failureNote says what a failed export left behind.
func (d *exportDestination) failureNote() string {
	switch {
	case d.ckpt != nil:
		return fmt.Sprintf("%s keeps them; run the same command again to resume from %s", d.ckpt.Partial, d.ckpt.path)
	case d.target != "":
		return fmt.Sprintf("nothing was written to %s", d.target)
	}
	return fmt.Sprintf("they were written to %s", d.name)
}
