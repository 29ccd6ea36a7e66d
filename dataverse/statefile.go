package dataverse

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// A bulk job's checkpoint and a Sync's state file are small JSON files
// read the same way: bounded in size, decoded strictly, and identified by
// a format name and version. The helpers here do that once; each kind
// adds its own checks of the content.

// readStateFile reads the state file at path, refusing one longer than
// max bytes; found is false when it does not exist. what names the kind
// of file in errors, e.g. "checkpoint".
func readStateFile(path string, max int64, what string) (data []byte, found bool, err error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("dataverse: reading %s: %w", what, err)
	}
	defer f.Close()
	data, err = readAllLimit(f, max+1)
	if err != nil {
		return nil, false, fmt.Errorf("dataverse: reading %s %s: %w", what, path, err)
	}
	return data, true, nil
}

// decodeStateFile decodes data, which must be exactly one JSON object of
// at most max bytes with no field v does not have, into v. what names the
// kind of file in the errors, which say what is wrong with it.
func decodeStateFile(data []byte, max int, what string, v any) error {
	if len(data) > max {
		return fmt.Errorf("it is %d bytes long; a %s is at most %d", len(data), what, max)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("it is not a %s's JSON (%v)", what, err)
	}
	if dec.More() {
		return fmt.Errorf("it has data after the %s's JSON object", what)
	}
	return nil
}

// checkStateFileFormat refuses a state file whose format or version is
// not the one this program writes.
func checkStateFileFormat(format string, version int, wantFormat string, wantVersion int) error {
	switch {
	case format != wantFormat:
		return fmt.Errorf("its format is %q, not %q", format, wantFormat)
	case version != wantVersion:
		return fmt.Errorf("its version is %d; this program reads version %d", version, wantVersion)
	}
	return nil
}
