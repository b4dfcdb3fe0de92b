package translate

import (
	"slices"
	"strings"

	"golang.org/x/text/cases"
	"golang.org/x/text/language"
	"golang.org/x/text/unicode/norm"
)

// Language is a language users can translate into.
type Language struct {
	Code    string // ours, BCP 47: "fr", "zh", "zh-TW"
	English string // "French"
	Native  string // "français"
	// Aliases are further names people type: "chinese simplified", "mandarin".
	Aliases []string
}

// Name is how messages name the language: its English name, and its
// native name when that differs ("French (français)").
func (l Language) Name() string {
	if l.Native == "" || strings.EqualFold(l.Native, l.English) {
		return l.English
	}
	return l.English + " (" + l.Native + ")"
}

// languages are the languages the integration offers, sorted by code. All
// three providers translate them (LibreTranslate only those whose models
// its operator installed); a provider refusing one is reported to the
// user as an unsupported pair.
var languages = []Language{
	{Code: "ar", English: "Arabic", Native: "العربية", Aliases: []string{"arabe", "árabe"}},
	{Code: "bg", English: "Bulgarian", Native: "български"},
	{Code: "cs", English: "Czech", Native: "čeština"},
	{Code: "da", English: "Danish", Native: "dansk"},
	{Code: "de", English: "German", Native: "Deutsch", Aliases: []string{"allemand", "alemán"}},
	{Code: "el", English: "Greek", Native: "Ελληνικά"},
	{Code: "en", English: "English", Native: "English", Aliases: []string{"anglais", "inglés", "английский", "الإنجليزية", "英语", "英文"}},
	{Code: "es", English: "Spanish", Native: "español", Aliases: []string{"espagnol", "castellano", "испанский", "الإسبانية", "西班牙语"}},
	{Code: "et", English: "Estonian", Native: "eesti"},
	{Code: "fi", English: "Finnish", Native: "suomi"},
	{Code: "fr", English: "French", Native: "français", Aliases: []string{"francais", "francés", "французский", "الفرنسية", "法语", "法文"}},
	{Code: "he", English: "Hebrew", Native: "עברית"},
	{Code: "hi", English: "Hindi", Native: "हिन्दी"},
	{Code: "hu", English: "Hungarian", Native: "magyar"},
	{Code: "id", English: "Indonesian", Native: "Bahasa Indonesia", Aliases: []string{"indonesia"}},
	{Code: "it", English: "Italian", Native: "italiano"},
	{Code: "ja", English: "Japanese", Native: "日本語"},
	{Code: "ko", English: "Korean", Native: "한국어"},
	{Code: "lt", English: "Lithuanian", Native: "lietuvių"},
	{Code: "lv", English: "Latvian", Native: "latviešu"},
	{Code: "nb", English: "Norwegian", Native: "norsk bokmål", Aliases: []string{"norsk", "bokmål", "nb-no"}},
	{Code: "nl", English: "Dutch", Native: "Nederlands"},
	{Code: "pl", English: "Polish", Native: "polski"},
	{Code: "pt", English: "Portuguese", Native: "português", Aliases: []string{"portugues", "pt-pt"}},
	{Code: "pt-BR", English: "Brazilian Portuguese", Native: "português do Brasil", Aliases: []string{"brazilian"}},
	{Code: "ro", English: "Romanian", Native: "română"},
	{Code: "ru", English: "Russian", Native: "русский", Aliases: []string{"russe", "ruso", "الروسية", "俄语", "俄文"}},
	{Code: "sk", English: "Slovak", Native: "slovenčina"},
	{Code: "sl", English: "Slovenian", Native: "slovenščina"},
	{Code: "sv", English: "Swedish", Native: "svenska"},
	{Code: "th", English: "Thai", Native: "ไทย"},
	{Code: "tr", English: "Turkish", Native: "Türkçe"},
	{Code: "uk", English: "Ukrainian", Native: "українська"},
	{Code: "vi", English: "Vietnamese", Native: "Tiếng Việt"},
	{Code: "zh", English: "Chinese", Native: "中文", Aliases: []string{"zh-cn", "zh-hans", "chinese simplified", "simplified chinese", "简体中文", "中文简体", "汉语", "mandarin", "chinois", "chino", "китайский", "الصينية"}},
	{Code: "zh-TW", English: "Traditional Chinese", Native: "繁體中文", Aliases: []string{"zh-hant", "zh-hk", "chinese traditional", "中文繁體", "繁体中文"}},
}

// fold normalises a language name for lookup: NFC, case-folded, trimmed.
func fold(s string) string {
	return cases.Fold().String(norm.NFC.String(strings.TrimSpace(s)))
}

// byName indexes languages by every name they answer to.
var byName = func() map[string]Language {
	m := make(map[string]Language)
	for _, l := range languages {
		for _, n := range append([]string{l.Code, l.English, l.Native}, l.Aliases...) {
			m[fold(n)] = l
		}
	}
	return m
}()

// LookupLanguage finds a language by code ("fr", "zh-TW", "zh_tw"),
// English name ("french") or native name ("français", "العربية", "中文").
func LookupLanguage(name string) (Language, bool) {
	key := fold(strings.ReplaceAll(name, "_", "-"))
	if key == "" {
		return Language{}, false
	}
	if l, ok := byName[key]; ok {
		return l, true
	}
	// A regional code we do not list ("fr-CA", "es-419") means its base
	// language.
	if tag, err := language.Parse(key); err == nil {
		base, _ := tag.Base()
		if l, ok := byName[base.String()]; ok {
			return l, true
		}
	}
	return Language{}, false
}

// Languages returns the languages the integration offers, sorted by code.
func Languages() []Language { return slices.Clone(languages) }

// codeOf maps a provider's name for a language ("en", "zh-CN", "ZH",
// "zh-Hans", "pt-BR") to ours, or "" when we do not offer it.
func codeOf(providerCode string) string {
	if providerCode == "" {
		return ""
	}
	if l, ok := LookupLanguage(providerCode); ok {
		return l.Code
	}
	return ""
}

// flagLanguages maps the ISO 3166 country code of a flag emoji to the
// language a reaction with it asks for: the country's main language, or
// the one most of its people read when it has several.
var flagLanguages = map[string]string{
	// Arabic
	"sa": "ar", "ae": "ar", "eg": "ar", "ma": "ar", "dz": "ar", "tn": "ar", "iq": "ar", "jo": "ar",
	"kw": "ar", "lb": "ar", "ly": "ar", "om": "ar", "qa": "ar", "sy": "ar", "ye": "ar", "bh": "ar",
	"sd": "ar", "ps": "ar",
	// English
	"gb": "en", "uk": "en", "us": "en", "au": "en", "nz": "en", "ie": "en", "ca": "en", "um": "en",
	// French
	"fr": "fr", "mc": "fr", "sn": "fr", "ci": "fr", "ht": "fr", "mf": "fr", "pf": "fr", "nc": "fr",
	// Spanish
	"es": "es", "mx": "es", "ar": "es", "co": "es", "cl": "es", "pe": "es", "ve": "es", "ec": "es",
	"gt": "es", "cu": "es", "bo": "es", "do": "es", "hn": "es", "py": "es", "sv": "es", "ni": "es",
	"cr": "es", "pa": "es", "uy": "es", "pr": "es", "ea": "es", "ic": "es",
	// Chinese
	"cn": "zh", "sg": "zh", "tw": "zh-TW", "hk": "zh-TW", "mo": "zh-TW",
	// Russian
	"ru": "ru", "by": "ru",
	// The rest of the languages offered.
	"bg": "bg", "cz": "cs", "dk": "da", "de": "de", "at": "de", "li": "de", "gr": "el", "cy": "el",
	"ee": "et", "fi": "fi", "il": "he", "in": "hi", "hu": "hu", "id": "id", "it": "it", "sm": "it",
	"va": "it", "jp": "ja", "kr": "ko", "lt": "lt", "lv": "lv", "no": "nb", "nl": "nl", "sr": "nl",
	"pl": "pl", "pt": "pt", "ao": "pt", "mz": "pt", "br": "pt-BR", "ro": "ro", "md": "ro", "sk": "sk",
	"si": "sl", "se": "sv", "th": "th", "tr": "tr", "ua": "uk", "vn": "vi",
}

// bareFlags are the flags Slack also names without the "flag-" prefix
// (:fr:, :us:, :uk:). Other two-letter names are not flags at all
// (:id: is the ID button, :ok: a button, :no: nothing), except :sa:, which
// the community uses for Saudi Arabia although Slack's :sa: is a Japanese
// button.
var bareFlags = []string{"cn", "de", "es", "fr", "gb", "it", "jp", "kr", "ru", "us", "uk", "sa"}

// FlagLanguage returns the language a reaction asks for: "fr" for :fr: or
// :flag-fr:. ok is false for an emoji that is not a flag we map.
func FlagLanguage(reaction string) (Language, bool) {
	name, _, _ := strings.Cut(reaction, "::") // a skin tone never follows a flag, but be safe
	country, prefixed := strings.CutPrefix(name, "flag-")
	if !prefixed && !slices.Contains(bareFlags, country) {
		return Language{}, false
	}
	code, ok := flagLanguages[country]
	if !ok {
		return Language{}, false
	}
	return LookupLanguage(code)
}
