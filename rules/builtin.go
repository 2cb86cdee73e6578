package rules

// The event types of the movie-streaming service, as the seed article's
// Avro schemas and the Kafka log define them.
const (
	MovieWatchEvent       = "MovieWatchEvent"
	MovieRatingEvent      = "MovieRatingEvent"
	RecommendationRequest = "RecommendationRequest"
)

// BuiltinFields returns the fields of a first-class event type, in the
// order of its Avro schema, and whether the type is one. MovieWatchEvent
// lists the optional subtitles field that later schema versions add.
func BuiltinFields(event string) ([]Field, bool) {
	str := func(name string) Field { return Field{Name: name, Kind: KindString, Type: "string"} }
	num := func(name string) Field { return Field{Name: name, Kind: KindInt, Type: "int"} }
	switch event {
	case MovieWatchEvent:
		return []Field{str("time"), str("userId"), str("movieId"), num("minute"),
			{Name: "subtitles", Kind: KindBool, Type: "boolean"}}, true
	case MovieRatingEvent:
		return []Field{str("time"), str("userId"), str("movieId"), num("rating")}, true
	case RecommendationRequest:
		return []Field{str("time"), str("userId"), str("server"), num("status"),
			{Name: "recommendations", Kind: KindString, Nullable: true, Type: `["null","string"]`},
			num("responseTime")}, true
	}
	return nil, false
}

// BuiltinEvents returns the names of the first-class event types, sorted.
func BuiltinEvents() []string {
	return []string{MovieRatingEvent, MovieWatchEvent, RecommendationRequest}
}
