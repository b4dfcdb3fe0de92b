package web

// emoji maps Slack's most used emoji codes to their characters. A code not
// here (custom emoji, rarer ones) is shown as its :code:.
var emoji = map[string]string{
	"+1": "👍", "thumbsup": "👍", "-1": "👎", "thumbsdown": "👎", "smile": "😄", "smiley": "😃", "grinning": "😀",
	"laughing": "😆", "joy": "😂", "rofl": "🤣", "wink": "😉", "blush": "😊", "slightly_smiling_face": "🙂",
	"upside_down_face": "🙃", "heart_eyes": "😍", "thinking_face": "🤔", "neutral_face": "😐", "confused": "😕",
	"cry": "😢", "sob": "😭", "scream": "😱", "angry": "😠", "rage": "😡", "sweat_smile": "😅", "sunglasses": "😎",
	"stuck_out_tongue": "😛", "relieved": "😌", "sleeping": "😴", "mask": "😷", "innocent": "😇", "hugging_face": "🤗",
	"raised_hands": "🙌", "clap": "👏", "wave": "👋", "pray": "🙏", "muscle": "💪", "ok_hand": "👌", "point_up": "☝️",
	"point_right": "👉", "point_left": "👈", "eyes": "👀", "heart": "❤️", "blue_heart": "💙", "green_heart": "💚",
	"yellow_heart": "💛", "purple_heart": "💜", "broken_heart": "💔", "fire": "🔥", "star": "⭐", "sparkles": "✨",
	"tada": "🎉", "confetti_ball": "🎊", "balloon": "🎈", "gift": "🎁", "rocket": "🚀", "100": "💯",
	"white_check_mark": "✅", "heavy_check_mark": "✔️", "x": "❌", "warning": "⚠️", "question": "❓",
	"exclamation": "❗", "bulb": "💡", "memo": "📝", "calendar": "📅", "date": "📅", "pushpin": "📌",
	"link": "🔗", "lock": "🔒", "key": "🔑", "bell": "🔔", "mega": "📣", "loudspeaker": "📢", "email": "📧",
	"phone": "📞", "computer": "💻", "coffee": "☕", "beer": "🍺", "pizza": "🍕", "cake": "🍰", "sun": "☀️",
	"sunny": "☀️", "cloud": "☁️", "rain_cloud": "🌧️", "snowflake": "❄️", "zap": "⚡", "rainbow": "🌈",
	"earth_africa": "🌍", "earth_americas": "🌎", "earth_asia": "🌏", "house": "🏠", "car": "🚗", "bus": "🚌",
	"bike": "🚲", "airplane": "✈️", "books": "📚", "book": "📖", "art": "🎨", "musical_note": "🎵", "soccer": "⚽",
	"trophy": "🏆", "medal": "🏅", "dog": "🐶", "cat": "🐱", "see_no_evil": "🙈", "raising_hand": "🙋",
	"shrug": "🤷", "facepalm": "🤦", "handshake": "🤝", "v": "✌️", "crossed_fingers": "🤞", "seedling": "🌱",
	"rose": "🌹", "hourglass": "⌛", "alarm_clock": "⏰", "mag": "🔍", "money_with_wings": "💸", "moneybag": "💰",
	"chart_with_upwards_trend": "📈", "hammer_and_wrench": "🛠️", "gear": "⚙️", "speech_balloon": "💬",
	"information_source": "ℹ️", "no_entry": "⛔", "recycle": "♻️", "partying_face": "🥳", "star-struck": "🤩",
	"slightly_frowning_face": "🙁", "grimacing": "😬", "zipper_mouth_face": "🤐", "heavy_plus_sign": "➕",
	"arrow_right": "➡️", "arrow_left": "⬅️", "arrow_up": "⬆️", "arrow_down": "⬇️", "red_circle": "🔴",
	"large_green_circle": "🟢", "large_blue_circle": "🔵", "white_circle": "⚪", "black_circle": "⚫",
}
