package translate

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// A day of a six-language community channel, for the auto-translation
// benchmark: what its members post between morning and night, in English,
// French, Spanish, Arabic, Chinese and Russian. The shares follow what
// community chats look like: about a third of the messages are a word or
// two ("ok", "merci !", "+1"), a few are links or code pasted alone,
// others' apps post now and then, and the rest are sentences, one to
// three at a time, some with a mention, a link or inline code, and now
// and then the same text twice (a welcome, a reposted announcement).
// The sentences are written so that fakemt, which detects French and
// Spanish by common words, reads each language as it is.

type dayMessage struct {
	text string
	lang string // "" for no language (code, links, emoji)
	bot  bool
}

var daySentences = map[string][]string{
	"en": {
		"Good morning everyone, the volunteers meeting starts at six tonight.",
		"Could someone help me set up the projector before the talk?",
		"I uploaded the photos from Saturday's market to the shared drive.",
		"Reminder: the community garden needs watering while the weather stays this hot.",
		"We still need two people for the Sunday morning shift at the food bank.",
		"Thanks to everyone who came yesterday, it was a wonderful evening.",
		"Has anyone seen the keys to the storage room? They were on the hook this morning.",
		"The newsletter draft is ready for review, comments welcome until Friday.",
		"Please remember to sign the attendance sheet when you arrive.",
		"I can bring extra chairs if we expect more than forty people.",
	},
	"fr": {
		"Bonjour à tous, la réunion des bénévoles commence à dix-huit heures.",
		"Merci pour votre aide hier soir, la soirée était très réussie.",
		"Est-ce que quelqu'un peut apporter des rallonges électriques demain ?",
		"Les photos du marché sont en ligne, et elles sont magnifiques.",
		"Je serai en retard de dix minutes, commencez sans moi et je vous rejoins.",
		"La salle est réservée jusqu'à vingt-deux heures, pensez à ranger les chaises.",
		"Le programme de la semaine prochaine est affiché à l'entrée.",
		"Nous cherchons encore deux personnes pour la permanence de samedi matin.",
	},
	"es": {
		"Hola a todos, el taller de reparación empieza a las cinco.",
		"Gracias por venir ayer, fue una tarde muy bonita para el barrio.",
		"Hola, ¿alguien puede ayudarme con los carteles para el mercado?",
		"El huerto necesita riego y los turnos de esta semana están casi completos.",
		"Mañana traigo el proyector y los cables, nos vemos en la sala.",
		"Hasta luego, el sábado llevo las sillas que faltan y algo de comida.",
		"Los vecinos del edificio nuevo preguntan por las clases de idiomas.",
		"Hola equipo, ya subí el acta de la reunión y el presupuesto actualizado.",
	},
	"ar": {
		"صباح الخير جميعا، اجتماع المتطوعين يبدأ الساعة السادسة مساء.",
		"شكرا لكل من حضر أمس، كانت أمسية رائعة.",
		"هل يمكن لأحد أن يساعدني في تجهيز القاعة قبل المحاضرة؟",
		"نحتاج إلى شخصين إضافيين لمناوبة يوم الأحد في بنك الطعام.",
		"الصور من السوق موجودة الآن في المجلد المشترك.",
		"سأتأخر عشر دقائق، ابدؤوا من دوني من فضلكم.",
	},
	"zh": {
		"大家早上好，志愿者会议今晚六点开始。",
		"谢谢昨天来帮忙的朋友们，活动非常成功。",
		"有人能帮我在讲座前把投影仪装好吗？",
		"周日上午食物银行还需要两位志愿者，请大家报名。",
		"市场的照片已经上传到共享文件夹了。",
		"我会晚到十分钟，请先开始，不用等我。",
	},
	"ru": {
		"Всем доброе утро, встреча волонтёров начинается в шесть вечера.",
		"Спасибо всем, кто пришёл вчера, вечер получился замечательным.",
		"Может кто-нибудь помочь мне настроить проектор перед лекцией?",
		"В воскресенье утром в продуктовом банке нужны ещё два человека.",
		"Фотографии с рынка уже загружены в общую папку.",
		"Я опоздаю на десять минут, начинайте без меня.",
	},
}

var dayShort = map[string][]string{
	"en": {"ok", "thanks!", "+1", "sounds good", "lol", "yes", "on my way"},
	"fr": {"merci !", "d'accord", "super", "oui", "à demain"},
	"es": {"gracias", "vale", "genial", "sí claro"},
	"ar": {"شكرا", "تمام", "إن شاء الله"},
	"zh": {"好的", "谢谢", "收到"},
	"ru": {"спасибо", "ок", "договорились"},
	"":   {":+1:", ":tada:", ":pray: :pray:", ":joy:"},
}

var dayCode = []string{
	"```\n$ make test\ngo test ./...\nok  \tgithub.com/example/garden\t0.412s\nok  \tgithub.com/example/garden/api\t1.031s\n```",
	"```\nfunc (s *Shift) Free() int {\n\treturn s.Capacity - len(s.Volunteers)\n}\n```",
	"```\nERROR 2026-12-03T09:14:02Z printer: paper jam in tray 2\nERROR 2026-12-03T09:14:07Z printer: retrying job 118 (3 of 5)\n```",
	"```\nSELECT name, count(*) FROM shifts WHERE day = 'sunday' GROUP BY name ORDER BY 2 DESC;\n```",
}

var dayLinks = []string{
	"https://docs.google.com/spreadsheets/d/1aBcDeFgHiJkLmNoPqRsTuVwXyZ/edit#gid=0",
	"<https://example.org/newsletter/2026-12|newsletter>",
	"https://www.youtube.com/watch?v=dQw4w9WgXcQ",
	"https://example.org/events/winter-market :point_up:",
}

var dayBots = []string{
	"New issue opened: Projector cable is missing from the storage room (#142)",
	"Reminder: Volunteers meeting starts in 15 minutes",
}

// dayOfMessages returns n messages of a day, the same for the same seed.
func dayOfMessages(n int, seed uint64) []dayMessage {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	langs := []string{"en", "en", "en", "en", "en", "en", "en", "en", "fr", "fr", "fr", "es", "es", "es", "ar", "ar", "zh", "zh", "ru", "ru"}
	pick := func(s []string) string { return s[r.IntN(len(s))] }
	var out []dayMessage
	for len(out) < n {
		lang := pick(langs)
		switch k := r.IntN(100); {
		case k < 32:
			if r.IntN(5) == 0 {
				lang = ""
			}
			out = append(out, dayMessage{text: pick(dayShort[lang]), lang: lang})
		case k < 36:
			out = append(out, dayMessage{text: pick(dayLinks)})
		case k < 40:
			out = append(out, dayMessage{text: pick(dayCode)})
		case k < 43:
			out = append(out, dayMessage{text: pick(dayBots), bot: true})
		case k < 46 && len(out) > 10:
			// The same text again: a welcome, a reposted announcement.
			for range 20 {
				if m := out[r.IntN(len(out))]; m.lang != "" && !m.bot && len(m.text) > 40 {
					out = append(out, m)
					break
				}
			}
		default:
			var parts []string
			for range 1 + r.IntN(3) {
				parts = append(parts, pick(daySentences[lang]))
			}
			text := strings.Join(parts, " ")
			switch r.IntN(10) {
			case 0:
				text = "<@U0" + fmt.Sprint(100+r.IntN(50)) + "> " + text
			case 1:
				text += " " + pick(dayLinks[:1])
			case 2:
				text += " `" + pick([]string{"make test", "config.yaml", "shifts.csv"}) + "`"
			}
			out = append(out, dayMessage{text: text, lang: lang})
		}
	}
	return out
}
