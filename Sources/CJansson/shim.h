// jansson, the JSON wire codec (Debian: libjansson-dev, pkg-config "jansson").
#include <jansson.h>

// jansson's reference counting is done in static inline functions and macros that Swift cannot call.
static inline json_t *cjansson_incref(json_t *json) { return json_incref(json); }
static inline void cjansson_decref(json_t *json) { json_decref(json); }
static inline int cjansson_typeof(const json_t *json) { return (int)json_typeof(json); }
