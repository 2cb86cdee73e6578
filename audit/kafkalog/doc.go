// Package kafkalog reads the movie-streaming service's raw Kafka text logs
// into audit events.
//
// The caller decompresses the file; the reader sees plain text, one event
// per line, fields separated by commas:
//
//	<time>,<userId>,GET /data/m/<movieId>/<minute>.mpg       MovieWatchEvent
//	<time>,<userId>,GET /rate/<movieId>=<rating>             MovieRatingEvent
//	<time>,<userId>,recommendation request <server>, status <code>, result: <text>, <n> ms
//	                                                         RecommendationRequest
//
// <time> is an ISO-8601 local date-time, YYYY-MM-DDTHH:MM:SS with an
// optional fraction of 1 to 9 digits; it is checked (month, day of the
// month with leap years, hour, minute, second) and kept as the string it
// was. userId is a non-empty string; a movie id is a non-empty slug without
// ',', '/', ' ' or '='; server is non-empty without ','. minute, rating,
// status and responseTime are signed 64-bit decimal integers (rules.KindInt;
// negative values are events, the rules judge them). The result text of a
// recommendation is its recommendations field, null when empty; it may hold
// commas, so the tail ", <n> ms" is taken from the right.
//
// The log carries no subtitles, so the reader's MovieWatchEvent shape is
// the built-in one without the optional subtitles field: a rule on
// subtitles finds no such field in these events rather than a null.
//
// A line that cannot be made into an event is handed to the sink's
// Malformed with one of these reasons, the first that applies:
//
//	too_long           longer than Options.MaxLineBytes (the text is a prefix of at most 1 KiB)
//	invalid_text       invalid UTF-8, or a control character (C0 incl. tab and NUL, DEL, C1)
//	unknown_shape      none of the three shapes
//	bad_time           the time does not parse or is not a real date-time
//	bad_minute         the watch minute is not an integer
//	bad_rating         the rating is not an integer
//	bad_status         the recommendation status is not an integer
//	bad_response_time  the recommendation response time is not an integer
//
// A trailing '\r' (CRLF) is dropped. Blank lines are neither events nor
// malformed but count for line numbers; a last line without a newline is a
// line.
package kafkalog
