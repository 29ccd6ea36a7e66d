package dataverse

import (
	"bufio"
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
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	line := 0
	var end int64
	for sc.Scan() {
		line++
		b := sc.Bytes()
		end += int64(len(b)) + 1
		if len(b) == 0 {
			continue
		}
		var fl struct {
			Position *int64 `json:"position"`
		}
		if err := json.Unmarshal(b, &fl); err != nil || fl.Position == nil {
			f.Close()
			return nil, fmt.Errorf("dataverse: error file %s line %d is not a failure written by a bulk job (a JSON object with a position); write the failures to another file", path, line)
		}
		seen[*fl.Position] = true
	}
	if err := sc.Err(); err != nil {
		f.Close()
		return nil, fmt.Errorf("dataverse: reading error file %s: %w", path, err)
	}
	// A crash may have left a last line without its newline: continue
	// after it on a new line.
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("dataverse: error file %s: %w", path, err)
	}
	s := &JSONLinesErrorSink{w: bufio.NewWriter(f), file: f, seen: seen}
	if size > 0 && end > size {
		s.w.WriteByte('\n')
	}
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
