package dataverse

import (
	"bytes"
	"encoding/json"
)

// Decoding Records without a json.Decoder per row.
//
// A Record keeps numbers as json.Number, which encoding/json offers only
// through json.Decoder.UseNumber; so Record.UnmarshalJSON used to build a
// decoder and a reader for every row, after encoding/json had already
// scanned the row to find its end: a page of Records cost 1.5-1.9× a page
// of maps (BenchmarkPageDecode). jsonobj.Parse builds the same map in one
// pass over the bytes, checking the JSON as it goes; whatever it is not
// sure of is decoded the old way, so malformed input gets exactly
// encoding/json's error (FuzzParseRecord and jsonobj.FuzzParse check it).

// decodeRecordWithDecoder is the general way: a json.Decoder with
// UseNumber, as Record.UnmarshalJSON always did. It gives encoding/json's
// errors for what jsonobj.Parse refuses.
func decodeRecordWithDecoder(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	m := map[string]any{}
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	return m, nil
}
