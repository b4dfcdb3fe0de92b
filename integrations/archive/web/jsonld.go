package web

import (
	"net/url"
	"strings"
	"time"

	"github.com/townhall/townhall/integrations/archive"
)

// The schema.org data of a thread page, as Google documents it for
// discussion forums
// (https://developers.google.com/search/docs/appearance/structured-data/discussion-forum):
// a DiscussionForumPosting (required: author with its name,
// datePublished, and text; recommended: headline, url, comment,
// dateModified, interactionStatistic, isPartOf, mainEntityOfPage) whose
// replies are Comment items (required: author, datePublished, text).

type postingLD struct {
	Context              string           `json:"@context"`
	Type                 string           `json:"@type"`
	ID                   string           `json:"@id,omitempty"`
	Headline             string           `json:"headline"`
	Text                 string           `json:"text"`
	URL                  string           `json:"url"`
	MainEntityOfPage     string           `json:"mainEntityOfPage"`
	Author               authorLD         `json:"author"`
	DatePublished        string           `json:"datePublished"`
	DateModified         string           `json:"dateModified,omitempty"`
	IsPartOf             *isPartOfLD      `json:"isPartOf,omitempty"`
	InteractionStatistic []interactionLD  `json:"interactionStatistic"`
	Comment              []commentLD      `json:"comment,omitempty"`
	SharedContent        []sharedContentD `json:"sharedContent,omitempty"`
}

type authorLD struct {
	Type string `json:"@type"`
	Name string `json:"name"`
}

type isPartOfLD struct {
	Type string `json:"@type"`
	Name string `json:"name"`
	URL  string `json:"url"`
}

type interactionLD struct {
	Type                 string `json:"@type"`
	InteractionType      string `json:"interactionType"`
	UserInteractionCount int    `json:"userInteractionCount"`
}

type commentLD struct {
	Type          string   `json:"@type"`
	Text          string   `json:"text"`
	URL           string   `json:"url"`
	Author        authorLD `json:"author"`
	DatePublished string   `json:"datePublished"`
	DateModified  string   `json:"dateModified,omitempty"`
}

type sharedContentD struct {
	Type string `json:"@type"`
	Name string `json:"name"`
	URL  string `json:"url,omitempty"`
}

// author is who wrote m, as schema.org has it: a Person, or the app's
// name as an Organization for a message no member wrote.
func (rc *renderCtx) author(m archive.Message) authorLD {
	if m.User == "" {
		return authorLD{Type: "Organization", Name: firstNonEmpty(m.Username, "An app")}
	}
	return authorLD{Type: "Person", Name: rc.user(m.User).Label()}
}

// ldTime is a message time as schema.org's DateTime (ISO 8601).
func (h *Handler) ldTime(ts string) string {
	t, err := archive.ParseTS(ts)
	if err != nil || ts == "" {
		return ""
	}
	return t.In(h.loc).Format(time.RFC3339)
}

// posting is the DiscussionForumPosting of the thread of root with its
// shown replies, at url.
func (rc *renderCtx) posting(c archive.Channel, root archive.Message, replies []archive.Message, title, url string) postingLD {
	h := rc.h
	p := postingLD{
		Context: "https://schema.org", Type: "DiscussionForumPosting", ID: url,
		Headline: title, Text: cleanText(rc.markup.Plain(root.Text)), URL: url, MainEntityOfPage: url,
		Author: rc.author(root), DatePublished: h.ldTime(root.TS), DateModified: h.ldTime(root.Edited),
		IsPartOf:             &isPartOfLD{Type: "WebPage", Name: "#" + c.Name, URL: h.abs("/c/" + pathEscape(c.Name) + "/")},
		InteractionStatistic: []interactionLD{{Type: "InteractionCounter", InteractionType: "https://schema.org/CommentAction", UserInteractionCount: len(replies)}},
	}
	if p.Text == "" {
		p.Text = title // text, image or video is required: a message of files says their names
	}
	for _, f := range root.Files {
		p.SharedContent = append(p.SharedContent, sharedContentD{Type: "DigitalDocument", Name: firstNonEmpty(f.Title, f.Name, "a file"), URL: safeHTTP(f.Permalink)})
	}
	for _, rep := range replies {
		cm := commentLD{Type: "Comment", Text: cleanText(rc.markup.Plain(rep.Text)), URL: url + "#m" + archive.TSDigits(rep.TS),
			Author: rc.author(rep), DatePublished: h.ldTime(rep.TS), DateModified: h.ldTime(rep.Edited)}
		if cm.Text == "" {
			for _, f := range rep.Files {
				cm.Text = firstNonEmpty(f.Title, f.Name)
				break
			}
			if cm.Text == "" {
				continue // nothing to say: no Comment without its text
			}
		}
		p.Comment = append(p.Comment, cm)
	}
	return p
}

func pathEscape(s string) string { return url.PathEscape(s) }

// safeHTTP returns u if it is an http(s) address, "" otherwise.
func safeHTTP(u string) string {
	if p, err := url.Parse(u); err == nil && (strings.EqualFold(p.Scheme, "https") || strings.EqualFold(p.Scheme, "http")) && p.Host != "" {
		return u
	}
	return ""
}
