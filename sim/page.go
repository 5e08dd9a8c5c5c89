package sim

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/camsd/camsd"
)

// The page is plain HTML, CSS and JavaScript, embedded so that camsd stays one binary and
// the page works where nothing outside the machine is reachable: no build step, no CDN.
//
//go:embed web
var web embed.FS

// pageCSP lets the page run only its own script and style and talk only to camsd: the
// messages it shows are data, and even if one slipped into the markup it could not run.
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; " +
	"img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// assetFile returns the embedded file served at urlPath and its Content-Type, or "" when
// none is.
func assetFile(urlPath string) (file, contentType string) {
	name, ok := strings.CutPrefix(urlPath, PagePath)
	if !ok {
		return "", ""
	}
	switch name {
	case "":
		return "web/index.html", "text/html; charset=utf-8"
	case "app.js":
		return "web/app.js", "text/javascript; charset=utf-8"
	case "style.css":
		return "web/style.css", "text/css; charset=utf-8"
	}
	return "", ""
}

func isAsset(urlPath string) bool {
	file, _ := assetFile(urlPath)
	return file != ""
}

// serveAsset serves the page's files. They change only with camsd itself, so browsers may
// keep them but must revalidate (an ETag makes that a 304), lest a new camsd run an old page.
func serveAsset(w http.ResponseWriter, r *http.Request) {
	file, contentType := assetFile(r.URL.Path)
	b, err := web.ReadFile(file)
	if err != nil { // cannot happen: assetFile names only embedded files
		writeJSON(w, r, http.StatusInternalServerError, errorBody{camsd.CodeInternalError, "The simulator could not read its page."})
		return
	}
	sum := sha256.Sum256(b)
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("ETag", `"`+hex.EncodeToString(sum[:12])+`"`)
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("Referrer-Policy", "no-referrer")
	http.ServeContent(w, r, path.Base(file), time.Time{}, bytes.NewReader(b))
}

// redirectToPage sends "/_sim" to PagePath, keeping the query (a filter by number), as a
// ServeMux does for a prefix it routes.
func redirectToPage(w http.ResponseWriter, r *http.Request) {
	target := PagePath
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	http.Redirect(w, r, target, http.StatusMovedPermanently)
}
