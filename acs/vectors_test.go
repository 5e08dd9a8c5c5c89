package acs

// Signature vectors made once by the official signers, never by this package:
// vectors_gen_test.go (build tag vectorgen) computed the V3 Authorization headers with
// darabonba-openapi v2.2.2 utils.GetAuthorization and the V2 signatures with
// utils.GetRPCSignature, and captured the last V2 request from the old SDK's client
// (alibaba-cloud-sdk-go v1.63.107, ProcessCommonRequest), whose Timestamp and nonce are its own.
// The first vector of each kind is the one in cams-api.md §4.4. Query strings are encoded as
// the clients put them on the wire (url.Values.Encode). AccessKey testid, secret testsecret.

type vectorV3 struct {
	name, method, query, body string
	header                    map[string]string // lower-case names as darabonba sends them
}

type vectorV2 struct {
	name, method, host, contentType string
	query, body                     string // all params but Signature
	signature                       string
}

var vectorsV3 = []vectorV3{
	{
		name: "doc 4.4 POST", method: "POST", query: "CustSpaceId=cams-abc&Locale=zh_CN&Method=sms&PhoneNumber=8613800001234", body: "",
		header: map[string]string{
			"authorization":         "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=965e2f16f02c1272b8f11a9fef8d9083ffcfdd5e9c44a0ddfd6215fa57006a94",
			"host":                  "cams.ap-southeast-1.aliyuncs.com",
			"x-acs-action":          "GetMigrationVerifyCode",
			"x-acs-content-sha256":  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
			"x-acs-date":            "2024-01-01T00:00:00Z",
			"x-acs-signature-nonce": "3156853299f313e23d1673dc12e1703d",
			"x-acs-version":         "2020-06-06",
		},
	},
	{
		name: "GET special characters and empty value", method: "GET", query: "CustSpaceId=cams-abc&Empty=&Note=a+b%2Ac~d%2Be%2Ff%3Dg%26h%25i%E4%B8%AD%E6%96%87%C3%BC%21%27%28%29&Plus=1%2B1&Tag.1.Key=~tilde", body: "",
		header: map[string]string{
			"authorization":         "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=32d68827a3b92f388642ddc11120eb7a2f6975ec0aedfa88616a8e173957e40b",
			"host":                  "127.0.0.1:8080",
			"x-acs-action":          "GetMigrationVerifyCode",
			"x-acs-content-sha256":  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
			"x-acs-date":            "2024-02-29T12:34:56Z",
			"x-acs-signature-nonce": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
			"x-acs-version":         "2020-06-06",
		},
	},
	{
		name: "POST form body", method: "POST", query: "CustSpaceId=cams-abc&PhoneNumber=8613800001234", body: "Blank=&Locale=en_US&Remark=a+b%2Ac~d%2Be%2Ff%3Dg%26h%25i%E4%B8%AD%E6%96%87%C3%BC%21%27%28%29",
		header: map[string]string{
			"authorization":         "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=content-type;host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=10d2c3437b3d97bde1184a79c203732f18f5bcf5638191c32f9bd34a937efca5",
			"content-type":          "application/x-www-form-urlencoded",
			"host":                  "localhost:9000",
			"x-acs-action":          "GetMigrationVerifyCode",
			"x-acs-content-sha256":  "069bc4297fcdc49962f4658a60bd880266b5f05585b8fd99697eea58625e0647",
			"x-acs-date":            "2024-06-30T23:59:59Z",
			"x-acs-signature-nonce": "ffffffffffffffffffffffffffffffff",
			"x-acs-version":         "2020-06-06",
		},
	},
	{
		name: "POST no query", method: "POST", query: "", body: "",
		header: map[string]string{
			"authorization":         "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=2b7063ac127ac28a6a8398001d0db637e5e1bf79059ec53d3034791f639ad5d7",
			"host":                  "cams.ap-southeast-1.aliyuncs.com",
			"x-acs-action":          "GetMigrationVerifyCode",
			"x-acs-content-sha256":  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
			"x-acs-date":            "2025-01-01T00:00:00Z",
			"x-acs-signature-nonce": "00000000000000000000000000000000",
			"x-acs-version":         "2020-06-06",
		},
	},
	{
		name: "key outside the unreserved set", method: "GET", query: "a+b=c+d&k~=v&x%2Ay=z", body: "",
		header: map[string]string{
			"authorization":         "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=93e4bd843896f960ae94b8d58ccfd559aa1500296e0ace9ebafe3754ca909e59",
			"host":                  "127.0.0.1:8080",
			"x-acs-action":          "GetMigrationVerifyCode",
			"x-acs-content-sha256":  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
			"x-acs-date":            "2024-01-01T00:00:00Z",
			"x-acs-signature-nonce": "abcdefabcdefabcdefabcdefabcdef01",
			"x-acs-version":         "2020-06-06",
		},
	},
}

var vectorsV2 = []vectorV2{
	{
		name: "doc 4.4 POST", method: "POST", host: "cams.ap-southeast-1.aliyuncs.com", contentType: "",
		query:     "AccessKeyId=testid&Action=GetMigrationVerifyCode&CustSpaceId=cams-abc&Format=json&Locale=zh_CN&Method=sms&PhoneNumber=8613800001234&SignatureMethod=HMAC-SHA1&SignatureNonce=nonce-1&SignatureVersion=1.0&Timestamp=2024-01-01T00%3A00%3A00Z&Version=2020-06-06",
		body:      "",
		signature: "FTBb6+EGVgas/QO67+l/KMlqRC4=",
	},
	{
		name: "GET special characters and empty value", method: "GET", host: "127.0.0.1:8080", contentType: "",
		query:     "AccessKeyId=testid&Action=GetMigrationVerifyCode&Empty=&Format=json&Note=a+b%2Ac~d%2Be%2Ff%3Dg%26h%25i%E4%B8%AD%E6%96%87%C3%BC%21%27%28%29&Plus=1%2B1&SignatureMethod=HMAC-SHA1&SignatureNonce=b6a4f1c2-3d4e-4f50-8a6b-7c8d9e0f1a2b&SignatureVersion=1.0&Tag.1.Key=~tilde&Timestamp=2024-02-29T12%3A34%3A56Z&Version=2020-06-06",
		body:      "",
		signature: "0WPnelRwAPLU9flWDHGe4gASTNs=",
	},
	{
		name: "POST query and form body", method: "POST", host: "localhost:9000", contentType: "application/x-www-form-urlencoded",
		query:     "AccessKeyId=testid&Action=GetMigrationVerifyCode&CustSpaceId=cams-abc&Format=json&SignatureMethod=HMAC-SHA1&SignatureNonce=9a8b7c6d5e4f&SignatureVersion=1.0&Timestamp=2024-06-30T23%3A59%3A59Z&Version=2020-06-06",
		body:      "Blank=&PhoneNumber=8613800001234&Remark=a+b%2Ac~d%2Be%2Ff%3Dg%26h%25i%E4%B8%AD%E6%96%87%C3%BC%21%27%28%29",
		signature: "7u0kFLkMqPZc6AtDDdh8+2u8t2U=",
	},
	{
		name: "GET XML format", method: "GET", host: "127.0.0.1:8080", contentType: "",
		query:     "AccessKeyId=testid&Action=GetMigrationVerifyCode&CustSpaceId=cams-abc&Format=XML&SignatureMethod=HMAC-SHA1&SignatureNonce=n-xml&SignatureVersion=1.0&Timestamp=2025-01-01T00%3A00%3A00Z&Version=2020-06-06",
		body:      "",
		signature: "94Qpx13iJS3LZ0IMsPWrK1JbF+Q=",
	},
	{
		name: "old SDK ProcessCommonRequest, query and form", method: "POST", host: "127.0.0.1:46489", contentType: "application/x-www-form-urlencoded",
		query:     "AccessKeyId=testid&Action=GetMigrationVerifyCode&CustSpaceId=cams-abc&Format=JSON&Note=x+y%2Az~&RegionId=ap-southeast-1&SignatureMethod=HMAC-SHA1&SignatureNonce=a73e0900f82d59b3d13e4af42a3dcfe8&SignatureType=&SignatureVersion=1.0&Timestamp=2026-11-27T03%3A33%3A33Z&Version=2020-06-06",
		body:      "PhoneNumber=8613800001234&Remark=%E4%B8%AD%E6%96%87+%2B1",
		signature: "N+lkxolLA5wCwGMm654uZGOpJ7g=",
	},
}
