// Package admin is camsd's admin API: an HTTP JSON API, apart from the public one, through
// which operators create and change tenants on the running server (accounts, AccessKeys, RAM
// users and policies, spaces, numbers) and read the audit trail. Changes take effect at once:
// they go through the store's ApplySeed, DeleteKey and ChangeNumber, which keep every cache
// right. Every request must carry the admin token as a bearer token; without a token the API
// is not served at all.
//
// The business rules stay where they are: policies are validated by package ram, numbers are
// added by migration.Service.AddNumber.
package admin
