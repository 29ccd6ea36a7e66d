// Package dverr is Dataverse's error vocabulary, shared by the Web API (package webapi) and the
// service protection limits and fault injection (package traffic), as package aadsts is Entra's.
//
// It holds:
//
//   - the catalogue of Dataverse Web API errors the emulator answers: each error code (the hex
//     code of the error envelope, "0x80040217"), grouped by where it arises, the HTTP statuses
//     that are a best guess, and constructors of the errors whose wording is fixed;
//   - the ApiExceptionMessageName of the codes the emulator knows (MessageName);
//   - the error envelope {"error":{"code":…,"message":…}} with the error-detail annotations
//     Prefer: odata.include-annotations asks for (AppendEnvelope).
//
// The store reports failures as kinds (store.Kind); package webapi maps each kind to its code here,
// in one function, so no wire code lives in the store.
//
// Codes follow Microsoft's Web service error list
// (https://learn.microsoft.com/power-apps/developer/data-platform/reference/web-service-error-codes)
// and shared/reference/webapi.md; entries marked [unverified] are best guesses, each in one named
// constant so a live check corrects it in one place.
package dverr
