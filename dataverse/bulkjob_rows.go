package dataverse

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// bulkIDNamespace is the UUID namespace of the ids a BulkJob derives for
// rows without a primary id: uuid.NewSHA1(bulkIDNamespace, table, position,
// content). It is fixed forever: changing it would make a resumed job
// create a second copy of rows an earlier version created.
var bulkIDNamespace = uuid.MustParse("5e0b7f0c-6d1c-4d1b-9a36-7c3f2a9e1d65")

// bulkRow is one input row, encoded for sending.
type bulkRow struct {
	pos int64
	// id is the primary id (create, update or upsert by id); key is the
	// alternate key segment "(col='v')", URL-encoded (jobs keyed on one).
	id  uuid.UUID
	key string
	// fields are the JSON members of the row without braces, without
	// "@odata.type", the primary id and the key columns ("" when none).
	fields []byte
	input  Record
	// maybeSent marks a row an earlier run may have sent (below the
	// checkpoint's dispatch mark): a create is then sent as an upsert.
	maybeSent bool
}

// rowProblem is a row refused before it is sent.
type rowProblem struct{ msg string }

func (p *rowProblem) Error() string { return p.msg }

// encodeRow turns an input record into a bulkRow, or says why it cannot be sent.
func (r *bulkRun) encodeRow(pos int64, rec Record) (*bulkRow, *rowProblem) {
	t := &r.table
	row := &bulkRow{pos: pos, input: rec}
	if rec == nil {
		return nil, &rowProblem{"the row is null, not a JSON object"}
	}
	if v, ok := rec["@odata.type"]; ok {
		want := "Microsoft.Dynamics.CRM." + t.logicalName
		if s, _ := v.(string); s != want && s != "#"+want {
			return nil, &rowProblem{fmt.Sprintf("its @odata.type is %v, not %q: every row must be a %s", v, want, t.logicalName)}
		}
	}
	omit := map[string]bool{"@odata.type": true, t.primaryID: true}
	if len(r.opts.KeyColumns) > 0 {
		key := make(AlternateKey, len(r.opts.KeyColumns))
		for _, k := range r.opts.KeyColumns {
			v, ok := rec[k]
			if !ok || v == nil {
				return nil, &rowProblem{fmt.Sprintf("the row has no value for key column %s; every row of a job keyed on [%s] needs one", k, strings.Join(r.opts.KeyColumns, ","))}
			}
			key[k] = v
			omit[k] = true
		}
		seg, err := key.segment()
		if err != nil {
			return nil, &rowProblem{strings.TrimPrefix(err.Error(), "dataverse: ")}
		}
		row.key = seg
		// A primary id in a keyed row is sent as a column.
		delete(omit, t.primaryID)
	} else if v, ok := rec[t.primaryID]; ok && v != nil {
		s, isString := v.(string)
		id, err := uuid.Parse(s)
		if !isString || err != nil || id == uuid.Nil {
			return nil, &rowProblem{fmt.Sprintf("its primary id column %s holds %v, not a GUID such as \"5e0b7f0c-6d1c-4d1b-9a36-7c3f2a9e1d65\"", t.primaryID, v)}
		}
		row.id = id
	} else if r.opts.Mode == BulkUpdate {
		return nil, &rowProblem{fmt.Sprintf("the row has no primary id column %s, which an update needs (or key the job on an alternate key)", t.primaryID)}
	}
	fields, err := appendMembers(nil, rec, omit)
	if err != nil {
		return nil, &rowProblem{fmt.Sprintf("it cannot be encoded as JSON: %v", err)}
	}
	row.fields = fields
	if row.key == "" && row.id == uuid.Nil {
		row.id = deriveRowID(t.logicalName, pos, row.fields)
	}
	return row, nil
}

// deriveRowID is the id of a row that has none: the same table, position
// and content give the same id, so a resumed job upserts what an earlier
// run may have created instead of creating it twice.
func deriveRowID(logicalName string, pos int64, fields []byte) uuid.UUID {
	data := make([]byte, 0, len(logicalName)+len(fields)+24)
	data = append(data, logicalName...)
	data = append(data, 0)
	data = strconv.AppendInt(data, pos, 10)
	data = append(data, 0)
	data = append(data, fields...)
	return uuid.NewSHA1(bulkIDNamespace, data)
}

// appendTarget appends the row as an item of a bulk message's Targets.
func (r *bulkRun) appendTarget(b []byte, row *bulkRow) []byte {
	b = append(b, `{"@odata.type":"Microsoft.Dynamics.CRM.`...)
	b = append(b, r.table.logicalName...)
	b = append(b, '"')
	if row.key != "" {
		b = append(b, `,"@odata.id":`...)
		b = appendMarshalString(b, r.table.entitySet+row.key)
	} else {
		b = r.appendIDMember(append(b, ','), row)
	}
	if len(row.fields) > 0 {
		b = append(b, ',')
		b = append(b, row.fields...)
	}
	return append(b, '}')
}

// appendIDMember appends the row's primary id as a member: "contactid":"<id>".
func (r *bulkRun) appendIDMember(b []byte, row *bulkRow) []byte {
	b = append(b, '"')
	b = append(b, r.table.primaryID...)
	b = append(b, `":"`...)
	b = append(b, row.id.String()...)
	return append(b, '"')
}

// singleBody is the row's body for a single operation in a $batch, with
// the primary id when withID (a create).
func (r *bulkRun) singleBody(row *bulkRow, withID bool) json.RawMessage {
	b := make([]byte, 0, len(row.fields)+64)
	b = append(b, '{')
	if withID {
		b = r.appendIDMember(b, row)
		if len(row.fields) > 0 {
			b = append(b, ',')
		}
	}
	b = append(b, row.fields...)
	return append(b, '}')
}

// failure describes a failed row for the sink.
func (r *bulkRun) failure(row *bulkRow, status int, code, msg string) BulkFailure {
	f := BulkFailure{Position: row.pos, Key: row.key, StatusCode: status, Code: code, Message: msg}
	if row.id != uuid.Nil {
		f.ID = row.id.String()
	}
	if row.input != nil {
		f.Record, _ = json.Marshal(row.input)
	}
	return f
}
