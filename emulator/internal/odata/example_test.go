package odata_test

import (
	"fmt"
	"net/url"

	"github.com/d365s2s/d365/emulator/internal/odata"
)

func ExampleParseFilter() {
	e, err := odata.ParseFilter("statecode eq 0 and primarycontactid/fullname eq 'O''Brien'")
	if err != nil {
		panic(err)
	}
	and := e.(*odata.BinaryExpr)
	cmp := and.Right.(*odata.BinaryExpr)
	path := cmp.Left.(*odata.PathExpr)
	fmt.Println(and.Op, cmp.Op.KindName())
	fmt.Println(path.Segments[0].Name, path.Segments[1].Name, path.Segments[1].Offset)
	fmt.Println(cmp.Right.(*odata.StringLiteral).Value)
	fmt.Println(e)
	// Output:
	// and Equal
	// primarycontactid fullname 36
	// O'Brien
	// statecode eq 0 and primarycontactid/fullname eq 'O''Brien'
}

func ExampleParseFilter_error() {
	_, err := odata.ParseFilter("lastname eq 'O'Bryan'")
	fmt.Println(err)
	// Output:
	// There is an unterminated literal at position 21 in 'lastname eq 'O'Bryan''.
}

func ExampleParseQuery() {
	values, _ := url.ParseQuery(`$filter=Microsoft.Dynamics.CRM.In(PropertyName=@p1,PropertyValues=@p2)&@p1='lastname'&@p2=["O'Brian","OBrian"]&$top=5`)
	q, err := odata.ParseQuery(values)
	if err != nil {
		panic(err)
	}
	in := q.Filter.(*odata.QueryFunctionExpr)
	values2, _ := in.Param("PropertyValues")
	list, _ := q.Alias(values2.(*odata.AliasExpr).Name)
	fmt.Println(in.FullName(), *q.Top)
	for _, item := range list.(*odata.ArrayLiteral).Items {
		fmt.Println(item.(*odata.StringLiteral).Value)
	}

	_, err = odata.ParseQuery(url.Values{"$skip": {"10"}})
	fmt.Println(err)
	// Output:
	// Microsoft.Dynamics.CRM.In 5
	// O'Brian
	// OBrian
	// The query parameter $skip is not supported
}
