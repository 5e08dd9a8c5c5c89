// Package sts is Alibaba Cloud's Security Token Service as camsd serves it: AssumeRole
// (product Sts, API version 2015-04-01) issues temporary credentials of a RAM role, and
// Sessions verifies them on every call signed with them.
//
// Temporary credentials are self-contained, so that any replica verifies them without a
// database read and nothing is stored per session:
//
//   - The SecurityToken is "CAMSD1." + base64url(claims) + "." + base64url(HMAC-SHA256(key,
//     claims)), where claims is a JSON object with the AccessKeyId, the role's account and
//     name, the session name, the session policy and the expiry (token.go). HMAC-SHA256
//     rather than Ed25519: the only party that verifies a token is camsd itself, which holds
//     the key anyway, and an HMAC costs a microsecond where an Ed25519 check costs fifty.
//   - The AccessKeyId is "STS." and 28 random letters and digits.
//   - The AccessKeySecret is base64url(HMAC-SHA256(key, AccessKeyId)) under a label of its
//     own: the server derives it again from the token's AccessKeyId, and no one without the
//     key can.
//
// The key is the database's (camsd.Store.STSSigningKey): 32 random bytes that the first
// start makes and every replica reads once, at its start. A key in a flag would have to be
// handed to every replica and kept equal; the database is what the replicas already share.
// The database keeps it sealed with the master key, as it keeps AccessKey secrets (package
// seal); without a master key, whoever can read the database can mint tokens, as they could
// read those secrets.
package sts
