// Command getverifycode calls GetMigrationVerifyCode on camsd (or on Alibaba Cloud) with the
// official darabonba OpenAPI client, unmodified, exactly as the generated cams SDK does.
//
//	go run ./cmd/camsd serve        # prints the export lines below
//	export ALIBABA_CLOUD_ACCESS_KEY_ID=… ALIBABA_CLOUD_ACCESS_KEY_SECRET=… CustSpaceId=… PhoneNumber=…
//	go run ./examples/getverifycode
//
// CAMSD_ENDPOINT (default 127.0.0.1:8080) is the host:port to call, or its http:// or https://
// URL (camsd started with --tls-cert); CAMSD_CA_FILE names a PEM file of the CA to trust for
// https besides the system's; CAMS_SIGNATURE=v2 switches the client to the V2 HMAC-SHA1
// signature.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	"github.com/alibabacloud-go/tea/dara"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run() error {
	protocol, endpoint := "http", getenv("CAMSD_ENDPOINT", "127.0.0.1:8080") // camsd's default: plain HTTP on loopback
	if host, ok := strings.CutPrefix(endpoint, "https://"); ok {
		protocol, endpoint = "https", host
	} else {
		endpoint = strings.TrimPrefix(endpoint, "http://")
	}
	cfg := &openapi.Config{
		AccessKeyId:     dara.String(os.Getenv("ALIBABA_CLOUD_ACCESS_KEY_ID")),
		AccessKeySecret: dara.String(os.Getenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET")),
		Endpoint:        dara.String(endpoint),
		Protocol:        dara.String(protocol),
	}
	if f := os.Getenv("CAMSD_CA_FILE"); f != "" {
		ca, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		cfg.Ca = dara.String(string(ca))
	}
	if s := os.Getenv("CAMS_SIGNATURE"); s != "" {
		cfg.SignatureAlgorithm = dara.String(s)
	}
	client, err := openapi.NewClient(cfg)
	if err != nil {
		return err
	}
	params := &openapi.Params{
		Action:      dara.String("GetMigrationVerifyCode"),
		Version:     dara.String("2020-06-06"),
		Protocol:    dara.String("HTTPS"),
		Pathname:    dara.String("/"),
		Method:      dara.String("POST"),
		AuthType:    dara.String("AK"),
		Style:       dara.String("RPC"),
		ReqBodyType: dara.String("formData"),
		BodyType:    dara.String("json"),
	}
	req := &openapi.OpenApiRequest{Query: map[string]*string{
		"CustSpaceId": dara.String(os.Getenv("CustSpaceId")),
		"PhoneNumber": dara.String(os.Getenv("PhoneNumber")),
		"Locale":      dara.String(getenv("Locale", "en_US")),
		"Method":      dara.String(getenv("Method", "sms")),
	}}
	res, err := client.CallApi(params, req, &dara.RuntimeOptions{})
	if err != nil {
		return err
	}
	out, err := json.MarshalIndent(res["body"], "", "  ")
	if err != nil {
		return err
	}
	fmt.Println(string(out))
	return nil
}

func getenv(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
