// Package ram parses and evaluates the identity policies of RAM users, Alibaba Cloud's access
// control language: Parse checks a policy document as strictly as the RAM console does and
// names the place of the first problem; Evaluate decides a request against a user's policies;
// Detail explains a denial in the AccessDeniedDetail shape that Alibaba Cloud error bodies carry.
//
// Requests signed with an account's own AccessKey never reach this package: the account owns
// everything it has, so only RAM users' requests are evaluated.
//
// The package is pure (no I/O, no clock: the request's time is in Context) and imports only
// the standard library and the root package.
package ram
