package dataverse

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// ChoiceOption is one value of a choice (option set) column.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/optionmetadata
type ChoiceOption struct {
	// Value is the number stored in the column.
	Value int
	// Label is the option's label in the user's language.
	Label string
	// State is, for an option of a Status column, the statecode value the
	// status belongs to (nil otherwise).
	State *int
}

// TableChoices holds the options of a table's choice columns.
type TableChoices struct {
	// Options maps a column's logical name to its options, in the order
	// the service listed them. Columns of every choice type are included:
	// Picklist, MultiSelectPicklist, State, Status and Boolean (whose two
	// options are 0 and 1).
	Options map[string][]ChoiceOption
	// Unavailable names the attribute types whose options the service did
	// not serve (it refused the cast or the OptionSet expansion), e.g.
	// "BooleanAttributeMetadata: <the service's message>". Empty against
	// Dataverse.
	Unavailable []string
}

// choiceCasts are the derived attribute types whose OptionSet holds
// options, each with its $expand. The Picklist shape is the one Microsoft
// documents; the other enumeration types share EnumAttributeMetadata's
// OptionSet and GlobalOptionSet navigation properties.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query-metadata-web-api#retrieve-attributes
var choiceCasts = []struct{ cast, expand string }{
	{"PicklistAttributeMetadata", choiceExpandOptions},
	{"MultiSelectPicklistAttributeMetadata", choiceExpandOptions},
	{"StateAttributeMetadata", choiceExpandOptions},
	{"StatusAttributeMetadata", choiceExpandOptions},
	{"BooleanAttributeMetadata", choiceExpandBoolean},
}

// choiceExpandOptions is the $expand Microsoft documents for the options
// of a PicklistAttributeMetadata.
const choiceExpandOptions = "OptionSet($select=Options),GlobalOptionSet($select=Options)"

// choiceExpandBoolean expands a BooleanAttributeMetadata's two options.
//
// [unverified] BooleanOptionSetMetadata carries TrueOption and FalseOption
// rather than Options; Microsoft's examples expand OptionSet on Picklist
// columns only, so this expands the whole OptionSet without a $select.
const choiceExpandBoolean = "OptionSet,GlobalOptionSet"

// optionSetDefinition is an OptionSetMetadata or BooleanOptionSetMetadata.
type optionSetDefinition struct {
	Options     []optionDefinition `json:"Options"`
	TrueOption  *optionDefinition  `json:"TrueOption"`
	FalseOption *optionDefinition  `json:"FalseOption"`
}

// optionDefinition is an OptionMetadata (or a StatusOptionMetadata, which
// adds State).
type optionDefinition struct {
	Value *int   `json:"Value"`
	Label *label `json:"Label"`
	State *int   `json:"State"`
}

func (o *optionDefinition) option() ChoiceOption {
	return ChoiceOption{Value: deref(o.Value), Label: o.Label.text(), State: o.State}
}

func (s *optionSetDefinition) options() []ChoiceOption {
	var out []ChoiceOption
	for i := range s.Options {
		out = append(out, s.Options[i].option())
	}
	if s.FalseOption != nil {
		out = append(out, s.FalseOption.option())
	}
	if s.TrueOption != nil {
		out = append(out, s.TrueOption.option())
	}
	return out
}

// TableChoices returns the options, with their labels, of every choice
// column of the table named by its entity set or logical name: one GET per
// choice attribute type, each cast to the derived type with its OptionSet
// (or GlobalOptionSet) expanded. A type whose options the service does not
// serve is named in Unavailable rather than failing the call.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query-metadata-web-api#retrieve-attributes
func (c *Client) TableChoices(ctx context.Context, entitySetOrLogicalName string) (choices *TableChoices, err error) {
	md, err := c.TableMetadata(ctx, entitySetOrLogicalName)
	if err != nil {
		return nil, err
	}
	ctx, end := c.startSpan(ctx, "TableChoices")
	defer func() { end(err) }()
	choices = &TableChoices{Options: map[string][]ChoiceOption{}}
	for _, cc := range choiceCasts {
		q := url.Values{}
		q.Set("$select", "LogicalName")
		q.Set("$expand", cc.expand)
		r := &request{
			method:     http.MethodGet,
			path:       entityDefinitionPath(md.LogicalName) + "/Attributes/Microsoft.Dynamics.CRM." + cc.cast,
			query:      encodeQuery(q),
			idempotent: true,
		}
		var out struct {
			Value []struct {
				LogicalName     string               `json:"LogicalName"`
				OptionSet       *optionSetDefinition `json:"OptionSet"`
				GlobalOptionSet *optionSetDefinition `json:"GlobalOptionSet"`
			} `json:"value"`
		}
		if _, err := c.sendJSON(ctx, r, &out); err != nil {
			if refusedMetadataQuery(err) {
				choices.Unavailable = append(choices.Unavailable, cc.cast+": "+responseMessage(err))
				continue
			}
			return nil, err
		}
		for _, a := range out.Value {
			set := a.OptionSet
			if set == nil || (len(set.Options) == 0 && set.TrueOption == nil && set.FalseOption == nil) {
				set = a.GlobalOptionSet
			}
			if set == nil {
				continue
			}
			choices.Options[a.LogicalName] = set.options()
		}
	}
	return choices, nil
}

// entityDefinitionPath is EntityDefinitions(LogicalName='<name>'), escaped.
func entityDefinitionPath(logicalName string) string {
	return "EntityDefinitions(LogicalName='" + url.PathEscape(strings.ReplaceAll(logicalName, "'", "''")) + "')"
}

// refusedMetadataQuery reports whether err is the service refusing a
// metadata query it does not support (a 400 for an unknown property or
// expansion, a 404 for an unknown cast or path segment, a 501), as opposed
// to a failure of the connection, the token or the caller's rights.
func refusedMetadataQuery(err error) bool {
	var re *ResponseError
	if !errors.As(err, &re) {
		return false
	}
	switch re.StatusCode {
	case http.StatusBadRequest, http.StatusNotFound, http.StatusNotImplemented:
		return true
	}
	return false
}

// responseMessage is the service's message of a *ResponseError, else the
// error's text.
func responseMessage(err error) string {
	var re *ResponseError
	if errors.As(err, &re) && re.Message != "" {
		return re.Message
	}
	return err.Error()
}
