// Package acs is the Alibaba Cloud API protocol layer of camsd: it decodes a request (V3
// headers, V2 params, query and form body), verifies its signature (ACS3-HMAC-SHA256 or RPC
// HMAC-SHA1), and writes the JSON or XML envelopes with the wire Code, HTTP status and message
// of the one error catalogue.
//
// A handler sees a request in three steps:
//
//	req, err := acs.ParseRequest(r, body)  // never fails on protocol problems
//	p, err := auth.Authenticate(ctx, call, req)  // the gateway checks, in the gateway's order
//	acs.WriteResult(w, req.Format, req.Action, id, v) // or acs.WriteError(w, req.Format, id, req.Host, err)
//
// The signature algorithms follow the official clients byte for byte
// (github.com/alibabacloud-go/darabonba-openapi/v2 utils.GetAuthorization and GetRPCSignature,
// and github.com/aliyun/alibaba-cloud-sdk-go sdk/auth); the tests hold vectors made by those
// signers and run the official client against Authenticate.
package acs
