/* cJSON field builders (core/jput.h). */
#include "core/jput.h"

#include "core/vtime.h"

int vgl_jput_str(cJSON *o, const char *k, const char *v)
{
	return (v ? cJSON_AddStringToObject(o, k, v) : cJSON_AddNullToObject(o, k)) ? 0 : -1;
}

int vgl_jput_num(cJSON *o, const char *k, int64_t v)
{
	/* ms timestamps and ids stay below 2^53, exact as doubles. */
	return cJSON_AddNumberToObject(o, k, (double)v) ? 0 : -1;
}

int vgl_jput_time(cJSON *o, const char *k, int64_t ms, int present)
{
	char b[VGL_ISO_LEN];

	return vgl_jput_str(o, k, present ? vgl_format_iso(ms, b) : NULL);
}

int vgl_jput_bool(cJSON *o, const char *k, int v)
{
	return cJSON_AddBoolToObject(o, k, v) ? 0 : -1;
}
