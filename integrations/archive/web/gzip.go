package web

import (
	"compress/gzip"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// gzipped compresses the text responses of next (HTML, CSS, plain text,
// JSON, XML, SVG) for clients that accept gzip. Responses already encoded,
// images and bodiless statuses go out as they are. Every response says
// Vary: Accept-Encoding, so caches keep the two forms apart.
func gzipped(next http.Handler) http.Handler {
	pool := &sync.Pool{New: func() any { return gzip.NewWriter(io.Discard) }}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Accept-Encoding")
		if !acceptsGzip(r.Header.Get("Accept-Encoding")) {
			next.ServeHTTP(w, r)
			return
		}
		gw := &gzipWriter{ResponseWriter: w, pool: pool}
		defer gw.finish()
		next.ServeHTTP(gw, r)
	})
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip
// (RFC 9110, section 12.5.3): "gzip" or "*" with a quality above zero.
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(part, ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name != "gzip" && name != "*" {
			continue
		}
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(k, "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					q = f
				}
			}
		}
		return q > 0
	}
	return false
}

// compressible reports whether a content type is text worth compressing.
func compressible(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	switch mt {
	case "application/json", "application/xml", "application/javascript", "application/xhtml+xml", "image/svg+xml":
		return true
	}
	return strings.HasPrefix(mt, "text/")
}

// gzipWriter decides on the first WriteHeader or Write whether to
// compress, from the status and the headers set by then.
type gzipWriter struct {
	http.ResponseWriter
	pool     *sync.Pool
	gz       *gzip.Writer // nil: not compressing
	decided  bool
	finished bool
}

func (w *gzipWriter) decide(status int, first []byte) {
	w.decided = true
	h := w.Header()
	if status < 200 || status == http.StatusNoContent || status == http.StatusNotModified || h.Get("Content-Encoding") != "" {
		return
	}
	if h.Get("Content-Type") == "" && first != nil {
		h.Set("Content-Type", http.DetectContentType(first)) // what net/http would say
	}
	if !compressible(h.Get("Content-Type")) {
		return
	}
	h.Del("Content-Length")
	h.Set("Content-Encoding", "gzip")
	w.gz = w.pool.Get().(*gzip.Writer)
	w.gz.Reset(w.ResponseWriter)
}

// WriteHeader implements http.ResponseWriter.
func (w *gzipWriter) WriteHeader(status int) {
	if !w.decided {
		w.decide(status, nil)
	}
	w.ResponseWriter.WriteHeader(status)
}

// Write implements http.ResponseWriter.
func (w *gzipWriter) Write(b []byte) (int, error) {
	if !w.decided {
		w.decide(http.StatusOK, b)
	}
	if w.gz == nil {
		return w.ResponseWriter.Write(b)
	}
	return w.gz.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *gzipWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// finish ends the gzip stream and returns its writer to the pool.
func (w *gzipWriter) finish() {
	if w.gz == nil || w.finished {
		return
	}
	w.finished = true
	w.gz.Close() // an error here is the client's connection: nothing to tell it
	w.gz.Reset(io.Discard)
	w.pool.Put(w.gz)
}
