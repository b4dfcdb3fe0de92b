package web

import (
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/townhall/townhall/integrations/archive"
)

// The archive's kept files (TOWNHALL_ARCHIVE_FILES), served from the blob
// store beside the database:
//
//	GET /files/<sha256>/<name>  a file shared in a message
//	GET /avatars/<user>         a member's avatar
//
// Images Browsers show safely (PNG, JPEG, GIF, WebP) are shown inline;
// everything else is a download (Content-Disposition: attachment, with
// its name as RFC 6266 and 5987 write it), and types a browser would run
// or render as a page (HTML, SVG, XML, JavaScript, …) go out as
// application/octet-stream whatever Slack called them. Every response
// says X-Content-Type-Options: nosniff and carries the pages'
// Content-Security-Policy (ServeHTTP), so nothing served here runs
// script. Files exist here only while a message of the archive shares
// them: removal and opt-out delete them.

// handleFiles registers the routes of kept files on mux.
func (h *Handler) handleFiles(mux *http.ServeMux) {
	mux.HandleFunc("GET /files/{sha256}/{name}", h.file)
	mux.HandleFunc("GET /avatars/{user}", h.avatar)
}

// fileIndex returns the archive's record of kept files and where their
// blobs lie, when files are kept.
func (h *Handler) fileIndex() (archive.FileIndex, archive.Blobs, bool) {
	idx, ok := h.a.(archive.FileIndex)
	if !ok || h.cfg.FilesDir == "" {
		return nil, archive.Blobs{}, false
	}
	return idx, archive.Blobs{Dir: h.cfg.FilesDir}, true
}

// inlineImages are the types shown in the page; any other is downloaded.
var inlineImages = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true}

// servedType is the Content-Type a kept file goes out with, and whether
// it may be shown inline.
func servedType(mimetype string) (string, bool) {
	t, params, err := mime.ParseMediaType(mimetype)
	if err != nil || t == "" {
		return "application/octet-stream", false
	}
	if inlineImages[t] {
		return t, true
	}
	if t == "text/plain" || t == "text/csv" || t == "text/markdown" {
		if cs := strings.ToLower(params["charset"]); cs != "" && cs != "utf-8" && cs != "us-ascii" {
			return "text/plain; charset=" + cs, false
		}
		return "text/plain; charset=utf-8", false
	}
	for _, bad := range []string{"html", "svg", "xml", "javascript", "ecmascript", "css", "xsl", "flash"} {
		if strings.Contains(t, bad) {
			return "application/octet-stream", false
		}
	}
	if strings.HasPrefix(t, "text/") {
		return "text/plain; charset=utf-8", false
	}
	return t, false
}

// contentDisposition writes RFC 6266's header for name: an ASCII fallback
// in filename and the name itself, UTF-8 and percent-encoded, in filename*.
func contentDisposition(disposition, name string) string {
	var ascii strings.Builder
	for _, r := range name {
		switch {
		case r < 0x20 || r == 0x7f || r == '"' || r == '\\' || r == '/' || r == ';':
			ascii.WriteByte('_')
		case r < 0x80:
			ascii.WriteRune(r)
		default:
			ascii.WriteByte('_')
		}
	}
	fallback := strings.TrimLeft(ascii.String(), ".")
	if fallback == "" {
		fallback = "file"
	}
	return disposition + `; filename="` + fallback + `"; filename*=UTF-8''` + strings.ReplaceAll(url.PathEscape(name), "'", "%27")
}

// file serves GET /files/<sha256>/<name>.
func (h *Handler) file(w http.ResponseWriter, r *http.Request) {
	idx, blobs, ok := h.fileIndex()
	sum := r.PathValue("sha256")
	if !ok || blobs.Path(sum) == "" {
		http.NotFound(w, r)
		return
	}
	rec, ok, err := idx.StoredBlob(r.Context(), sum, r.PathValue("name"))
	if err != nil {
		h.log.Warn("web archive: kept file", "error", err)
		http.Error(w, "The archive is not answering just now.", http.StatusServiceUnavailable)
		return
	}
	if ok {
		ok, err = h.filePublished(r, idx, rec.ID)
	}
	if err != nil {
		h.log.Warn("web archive: kept file", "error", err)
		http.Error(w, "The archive is not answering just now.", http.StatusServiceUnavailable)
		return
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	h.serveBlob(w, r, blobs, rec, false)
}

// filePublished reports whether a message of a published channel shares
// the file: the web archive serves no other.
func (h *Handler) filePublished(r *http.Request, idx archive.FileIndex, id string) (bool, error) {
	refs, err := idx.FileRefs(r.Context(), id)
	if err != nil {
		return false, err
	}
	for _, ref := range refs {
		if ref.Channel == "" {
			continue
		}
		c, ok, err := h.a.Channel(r.Context(), ref.Channel)
		if err != nil {
			return false, err
		}
		if ok && h.cfg.Published(c.Name) {
			return true, nil
		}
	}
	return false, nil
}

// avatar serves GET /avatars/<user>: the member's kept avatar, unless
// they opted out.
func (h *Handler) avatar(w http.ResponseWriter, r *http.Request) {
	idx, blobs, ok := h.fileIndex()
	if !ok {
		http.NotFound(w, r)
		return
	}
	user := r.PathValue("user")
	rec, ok, err := idx.StoredFile(r.Context(), archive.AvatarID(user))
	if err == nil && ok {
		var u archive.User
		u, _, err = h.a.User(r.Context(), user)
		ok = !u.OptedOut
	}
	if err != nil {
		h.log.Warn("web archive: avatar", "error", err)
		http.Error(w, "The archive is not answering just now.", http.StatusServiceUnavailable)
		return
	}
	if !ok || rec.Status != archive.FileStored {
		http.NotFound(w, r)
		return
	}
	h.serveBlob(w, r, blobs, rec, true)
}

// serveBlob sends rec's blob with safe headers; an avatar that is not an
// image we show inline is not served at all.
func (h *Handler) serveBlob(w http.ResponseWriter, r *http.Request, blobs archive.Blobs, rec archive.StoredFile, avatar bool) {
	ctype, inline := servedType(rec.Mimetype)
	if avatar && !inline {
		http.NotFound(w, r)
		return
	}
	f, err := blobs.Open(rec.SHA256)
	if err != nil {
		http.NotFound(w, r) // deleted since (removal, opt-out)
		return
	}
	defer f.Close()
	hd := w.Header()
	hd.Set("Content-Type", ctype)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Cache-Control", "public, max-age=3600") // removal takes effect within the hour in caches
	if inline {
		hd.Set("Content-Disposition", contentDisposition("inline", rec.Name))
	} else {
		hd.Set("Content-Disposition", contentDisposition("attachment", rec.Name))
	}
	http.ServeContent(w, r, "", time.Time{}, f)
}

// keptLinks points a message's files and its author's avatar at the
// archive's kept copies, when there are any.
func (rc *renderCtx) keptLinks(v *view) {
	idx, _, ok := rc.h.fileIndex()
	if !ok {
		return
	}
	if v.User != "" {
		if rec, ok, err := idx.StoredFile(rc.ctx, archive.AvatarID(v.User)); err == nil && ok && rec.Status == archive.FileStored {
			if _, inline := servedType(rec.Mimetype); inline {
				v.Avatar = "/avatars/" + url.PathEscape(v.User)
			}
		}
	}
	if len(v.Files) == 0 {
		return
	}
	files := make([]archive.File, len(v.Files))
	copy(files, v.Files)
	for k, f := range files {
		if f.ID == "" {
			continue
		}
		if rec, ok, err := idx.StoredFile(rc.ctx, f.ID); err == nil && ok && rec.Status == archive.FileStored {
			files[k].Permalink = "/files/" + rec.SHA256 + "/" + url.PathEscape(rec.Name)
			if _, inline := servedType(rec.Mimetype); inline && rec.Width > 0 && rec.Height > 0 {
				if v.Kept == nil {
					v.Kept = map[string]*keptImage{}
				}
				w, h := fitImage(rec.Width, rec.Height)
				v.Kept[f.ID] = &keptImage{Link: files[k].Permalink, Name: firstNonEmpty(f.Title, rec.Name), Width: w, Height: h}
			}
		}
	}
	v.Files = files
}

// keptImage is a kept image shown in its message, at its size (fitImage).
type keptImage struct {
	Link          string
	Name          string
	Width, Height int
}

// fitImage scales w×h down to at most 480 pixels wide and 320 high,
// keeping its proportions, for the img element's width and height (so the
// page does not move as images load).
func fitImage(w, h int) (int, int) {
	const maxW, maxH = 480, 320
	if w > maxW {
		w, h = maxW, max(1, h*maxW/w)
	}
	if h > maxH {
		w, h = max(1, w*maxH/h), maxH
	}
	return w, h
}
