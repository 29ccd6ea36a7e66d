package dataverse

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// BulkFailure is a row the service refused (or that could not be sent),
// as a BulkJob reports it to its error sink.
type BulkFailure struct {
	// Position is the row's input position (its index in the input,
	// counting from 0).
	Position int64 `json:"position"`
	// ID is the row's primary id, when it had or was given one.
	ID string `json:"id,omitempty"`
	// Key is the row's alternate key as in a URL ("(accountnumber='A-1')"),
	// for jobs keyed on one.
	Key string `json:"key,omitempty"`
	// StatusCode is the HTTP status of the refusal (0 when the row was
	// refused before it was sent, for example a malformed primary id).
	StatusCode int `json:"status,omitempty"`
	// Code is the Dataverse error code ("0x80044331"), if any.
	Code string `json:"code,omitempty"`
	// Message is the service's message, or why the row was not sent.
	Message string `json:"message"`
	// Record is the row as read from the input.
	Record json.RawMessage `json:"record,omitempty"`
}

// BulkErrorSink receives the failed rows of a BulkJob. The job calls
// WriteFailure from several goroutines at once, and saves its checkpoint
// (which marks the row done) only after WriteFailure returned; a sink
// that buffers should also implement Sync() error, called before each
// checkpoint save. An error from WriteFailure stops the job.
type BulkErrorSink interface {
	WriteFailure(BulkFailure) error
}

// JSONLinesErrorSink writes each failure as one JSON object per line
// (JSON Lines). It is safe for concurrent use.
type JSONLinesErrorSink struct {
	mu   sync.Mutex
	w    *bufio.Writer
	file *os.File
	seen map[int64]bool // positions already in the file (OpenJSONLinesErrorFile)
}

// NewJSONLinesErrorSink returns a sink that writes to w. Call Sync (or
// Close) to flush the buffered lines.
func NewJSONLinesErrorSink(w io.Writer) *JSONLinesErrorSink {
	return &JSONLinesErrorSink{w: bufio.NewWriter(w)}
}

// OpenJSONLinesErrorFile opens (or creates) the JSON Lines file at path
// for appending. The positions of the failures already in it are read
// first, so that a job resumed from a checkpoint does not write a row's
// failure twice. Close it after the job.
func OpenJSONLinesErrorFile(path string) (*JSONLinesErrorSink, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("dataverse: opening error file: %w", err)
	}
	seen := map[int64]bool{}
	r := bufio.NewReaderSize(f, 64<<10)
	var offset int64 // of the current line
	for line := 1; ; line++ {
		b, err := r.ReadBytes('\n')
		if len(b) == 0 && err == io.EOF {
			break
		}
		if err != nil && err != io.EOF {
			f.Close()
			return nil, fmt.Errorf("dataverse: reading error file %s: %w", path, err)
		}
		complete := err == nil
		var fl struct {
			Position *int64 `json:"position"`
		}
		if perr := json.Unmarshal(b, &fl); perr != nil || fl.Position == nil {
			if !complete {
				// The last line was cut short by a crash: its failure is
				// not covered by the checkpoint (which is saved after the
				// sink is synced), so the job reports it again.
				if terr := f.Truncate(offset); terr != nil {
					f.Close()
					return nil, fmt.Errorf("dataverse: error file %s: removing a line cut short: %w", path, terr)
				}
				break
			}
			if len(bytes.TrimSpace(b)) == 0 {
				offset += int64(len(b))
				continue
			}
			f.Close()
			return nil, fmt.Errorf("dataverse: error file %s line %d is not a failure written by a bulk job (a JSON object with a position); write the failures to another file", path, line)
		}
		seen[*fl.Position] = true
		offset += int64(len(b))
		if !complete {
			if _, werr := f.WriteAt([]byte{'\n'}, offset); werr != nil {
				f.Close()
				return nil, fmt.Errorf("dataverse: error file %s: %w", path, werr)
			}
			break
		}
	}
	if _, err := f.Seek(0, io.SeekEnd); err != nil {
		f.Close()
		return nil, fmt.Errorf("dataverse: error file %s: %w", path, err)
	}
	s := &JSONLinesErrorSink{w: bufio.NewWriter(f), file: f, seen: seen}
	return s, nil
}

// WriteFailure implements BulkErrorSink.
func (s *JSONLinesErrorSink) WriteFailure(f BulkFailure) error {
	b, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("dataverse: encoding a failure: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen[f.Position] {
		return nil
	}
	if s.seen != nil {
		s.seen[f.Position] = true
	}
	s.w.Write(b)
	return s.w.WriteByte('\n')
}

// Sync writes the buffered lines out (and, for a file, to stable storage).
func (s *JSONLinesErrorSink) Sync() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("dataverse: writing the error sink: %w", err)
	}
	if s.file != nil {
		return s.file.Sync()
	}
	return nil
}

// Close flushes the sink and closes the file it opened, if any.
func (s *JSONLinesErrorSink) Close() error {
	err := s.Sync()
	if s.file != nil {
		err = errors.Join(err, s.file.Close())
	}
	return err
}
