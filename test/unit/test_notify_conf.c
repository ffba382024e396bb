/* The "channels" config (notify/channel.c): every type's keys and
 * defaults, secrets from 0600 files, the errors at FILE:LINE:COL with full
 * key paths, and equality for reload. The loader is not wired to
 * "channels" here: the test drives vgl_channels_parse as the loader does,
 * with an empty key path over the main file's top-level object. */
#include <sys/stat.h>

#include "conf/json.h"
#include "conf/ld.h"
#include "conf/parse.h"
#include "notify/channel.h"
#include "test/test.h"
#include "test/unit/conf_util.h"

struct cfx {
	struct ld l;
	struct vgl_conf c;
	struct vgl_conf_errors e;
	struct vgl_channel_conf *ch;
	size_t n;
	int rc;
};

static void cfx_parse(struct cfx *f, const char *text, mode_t mode)
{
	struct vgl__doc *d;
	int tok = -1;

	memset(f, 0, sizeof(*f));
	write_file("vigil.json", text, mode);
	f->l.c = &f->c;
	f->l.e.out = &f->e;
	f->l.main_dir = strdup(vgl_test_tmpdir());
	ASSERT(f->l.main_dir != NULL);
	ASSERT_EQ(vgl__doc_load(tpath("vigil.json"), &f->l.e, &d), 0);
	ASSERT_EQ(vgl__add_doc(&f->l, d), 0);
	for (int i = 0, k = 1; i < d->tok[0].size; i++, k = d->tok[k + 1].next)
		if (vgl__tok_is(d, k, "channels"))
			tok = k + 1;
	ASSERT(tok >= 0);
	{
		struct vgl_cparse cp = { &f->l, d, NULL, 0, 0 };
		f->rc = vgl_channels_parse(&cp, tok, &f->ch, &f->n);
	}
	if (f->rc != 0 || f->e.n)
		dump_errors(&f->e);
}

static void cfx_free(struct cfx *f)
{
	vgl_channels_free(f->ch, f->n);
	for (size_t i = 0; i < f->l.n_docs; i++)
		vgl__doc_free(f->l.docs[i]);
	free(f->l.docs);
	free(f->l.main_dir);
	for (size_t i = 0; i < f->c.n_warnings; i++)
		free(f->c.warnings[i]);
	free(f->c.warnings);
	vgl_conf_errors_free(&f->e);
}

/* The one error expected, exactly "FILE:LINE:COL: PATH: MSG". */
static void want_error(const char *text, mode_t mode, int line, int col, const char *path,
		       const char *msg)
{
	struct cfx f;
	char want[1024];

	cfx_parse(&f, text, mode);
	ASSERT_EQ(f.rc, -1);
	ASSERT(f.ch == NULL);
	ASSERT_EQ(f.n, 0);
	ASSERT_GE(f.e.n, 1);
	snprintf(want, sizeof(want), "%s:%d:%d: %s: ", tpath("vigil.json"), line, col, path);
	ASSERT_EQ(strncmp(f.e.msgs[0], want, strlen(want)), 0);
	ASSERT_CONTAINS(f.e.msgs[0] + strlen(want), msg);
	cfx_free(&f);
}

static const struct vgl_channel_conf *ch_named(const struct cfx *f, const char *name)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->ch[i].name, name) == 0)
			return &f->ch[i];
	ASSERT(0);
	return NULL;
}

TEST(notify_conf_every_type)
{
	const struct vgl_channel_conf *c;
	struct cfx f;
	char ca[600];

	write_file("pd.secret", "{ \"routing_key\": \"R0UTING\" }", 0600);
	write_file("am.secret", "{ \"token\": \"t0ken\" }", 0600);
	cfx_parse(&f,
		  "{ \"channels\": {\n"
		  "  \"hook\": { \"type\": \"webhook\", \"url\": \"https://hooks.example/x\" },\n"
		  "  \"pd\": { \"type\": \"webhook\", \"format\": \"pagerduty\", \"url\": \"http://127.0.0.1:1/e\",\n"
		  "          \"routing_key_file\": \"pd.secret\", \"timeout_s\": 3 },\n"
		  "  \"am\": { \"type\": \"alertmanager\", \"url\": \"http://127.0.0.1:9093//\",\n"
		  "          \"token_file\": \"am.secret\", \"ca_file\": \"ca.pem\", \"insecure_tls\": true },\n"
		  "  \"run\": { \"type\": \"exec\", \"command\": [\"/usr/local/bin/page\", \"--urgent\", \"a b\"] },\n"
		  "  \"mail\": { \"type\": \"email\", \"to\": [\"ops@example.com\", \"b@example.com\"] }\n"
		  "} }\n", 0600);
	ASSERT_EQ(f.rc, 0);
	ASSERT_EQ(f.e.n, 0);
	ASSERT_EQ(f.n, 5);
	ASSERT_EQ(f.c.n_warnings, 0);

	c = ch_named(&f, "hook");
	ASSERT_EQ(c->type, VGL_CH_WEBHOOK);
	ASSERT_EQ(c->format, VGL_WH_VIGIL);
	ASSERT_STREQ(c->url, "https://hooks.example/x");
	ASSERT_EQ(c->timeout_ms, 10000);
	ASSERT(c->routing_key == NULL && c->bearer == NULL && c->ca_file == NULL);
	ASSERT_EQ(c->insecure_tls, 0);

	c = ch_named(&f, "pd");
	ASSERT_EQ(c->format, VGL_WH_PAGERDUTY);
	ASSERT_STREQ(c->routing_key, "R0UTING");
	ASSERT_EQ(c->timeout_ms, 3000);

	c = ch_named(&f, "am");
	ASSERT_EQ(c->type, VGL_CH_ALERTMANAGER);
	/* the API path goes after one slash */
	ASSERT_STREQ(c->url, "http://127.0.0.1:9093");
	ASSERT_STREQ(c->bearer, "t0ken");
	snprintf(ca, sizeof(ca), "%s/ca.pem", vgl_test_tmpdir());
	ASSERT_STREQ(c->ca_file, ca);
	ASSERT_EQ(c->insecure_tls, 1);

	c = ch_named(&f, "run");
	ASSERT_EQ(c->type, VGL_CH_EXEC);
	ASSERT_EQ(c->argc, 3);
	ASSERT_STREQ(c->argv[0], "/usr/local/bin/page");
	ASSERT_STREQ(c->argv[2], "a b");
	ASSERT(c->argv[3] == NULL);

	c = ch_named(&f, "mail");
	ASSERT_EQ(c->type, VGL_CH_EMAIL);
	ASSERT_EQ(c->n_to, 2);
	ASSERT_STREQ(c->to[1], "b@example.com");
	ASSERT_STREQ(c->sendmail, "/usr/sbin/sendmail");
	ASSERT(c->from == NULL);
	cfx_free(&f);
}

TEST(notify_conf_empty_and_equal)
{
	struct vgl_channel_conf cp;
	struct cfx f;

	cfx_parse(&f, "{ \"channels\": {} }", 0600);
	ASSERT_EQ(f.rc, 0);
	ASSERT_EQ(f.n, 0);
	cfx_free(&f);

	cfx_parse(&f,
		  "{ \"channels\": { \"run\": { \"type\": \"exec\", \"command\": [\"/bin/true\", \"x\"],\n"
		  "  \"timeout_s\": 300 } } }", 0600);
	ASSERT_EQ(f.rc, 0);
	ASSERT_EQ(f.ch[0].timeout_ms, 300000);
	ASSERT_EQ(vgl_channel_conf_copy(&cp, &f.ch[0]), 0);
	ASSERT(vgl_channel_conf_equal(&cp, &f.ch[0]));
	free(cp.argv[1]);
	ASSERT((cp.argv[1] = strdup("y")) != NULL);
	ASSERT(!vgl_channel_conf_equal(&cp, &f.ch[0]));
	vgl_channel_conf_clear(&cp);
	ASSERT_EQ(vgl_channel_conf_copy(&cp, &f.ch[0]), 0);
	cp.timeout_ms = 1000;
	ASSERT(!vgl_channel_conf_equal(&cp, &f.ch[0]));
	vgl_channel_conf_clear(&cp);
	cfx_free(&f);
}

/* Positions are 1-based columns of the token: a key's or a value's
 * opening quote, an object's brace. */
TEST(notify_conf_errors_at_file_line_col)
{
	/* col 41: the url's quote; col 54: "bogus" */
	want_error("{ \"channels\": {\n"
		   "\n"
		   "    \"hook\": { \"type\": \"webhook\", \"url\": \"ftp://x\" } } }\n",
		   0600, 3, 41, "channels.hook.url", "expected an http:// or https:// URL");
	want_error("{ \"channels\": {\n"
		   "    \"hook\": { \"type\": \"webhook\", \"url\": \"http://x/\", \"bogus\": 1 } } }\n",
		   0600, 2, 54, "channels.hook.bogus", "unknown key");
	want_error("{ \"channels\": {\n"
		   "  \"hook\": { \"type\": \"webhook\" } } }\n",
		   0600, 2, 11, "channels.hook", "missing \"url\"");
	want_error("{ \"channels\": {\n"
		   "  \"x\": { \"type\": \"exec\", \"command\": [\"page\", \"now\"] } } }\n",
		   0600, 2, 38, "channels.x.command[0]", "must be an absolute path");
	want_error("{ \"channels\": { \"x\": { \"type\": \"exec\" } } }\n", 0600, 1, 22,
		   "channels.x", "missing \"command\"");
	want_error("{ \"channels\": { \"x\": { \"type\": \"exec\", \"command\": [] } } }\n", 0600,
		   1, 51, "channels.x.command", "must not be empty");
	want_error("{ \"channels\": { \"m\": { \"type\": \"email\", \"from\": \"v@x\" } } }\n", 0600,
		   1, 22, "channels.m", "missing \"to\"");
	want_error("{ \"channels\": { \"m\": { \"type\": \"email\", \"to\": [\"ops\"] } } }\n", 0600,
		   1, 47, "channels.m.to", "is not one plain address");
	want_error("{ \"channels\": { \"x\": { \"type\": \"sms\" } } }\n", 0600, 1, 32,
		   "channels.x.type", "expected \"webhook\", \"alertmanager\", \"exec\" or \"email\"");
	want_error("{ \"channels\": { \"x\": { \"url\": \"http://a\" } } }\n", 0600, 1, 22,
		   "channels.x", "missing \"type\"");
	want_error("{ \"channels\": { \"x\": { \"type\": \"exec\", \"command\": [\"/bin/true\"],\n"
		   "  \"timeout_s\": 0 } } }\n", 0600, 2, 16, "channels.x.timeout_s", "expected an integer 1-300");
	want_error("{ \"channels\": { \"a\": { \"type\": \"alertmanager\", \"url\": \"http://a\",\n"
		   "  \"format\": \"vigil\" } } }\n", 0600, 2, 3, "channels.a.format",
		   "unknown key");
	want_error("{ \"channels\": { \"p\": { \"type\": \"webhook\", \"url\": \"http://a\",\n"
		   "  \"format\": \"pagerduty\" } } }\n", 0600, 1, 22, "channels.p",
		   "needs \"routing_key_file\"");
	want_error("{ \"channels\": { \"bad name\": { \"type\": \"exec\", \"command\": [\"/x\"] } } }\n",
		   0600, 1, 17, "channels", "must be 1..64 of [A-Za-z0-9_-]");
	want_error("{ \"channels\": [] }\n", 0600, 1, 15, "channels", "expected an object");
}

TEST(notify_conf_secret_files)
{
	struct cfx f;

	/* a routing key file others can read is refused, naming the file */
	write_file("pd.secret", "{ \"routing_key\": \"R\" }", 0644);
	want_error("{ \"channels\": { \"p\": { \"type\": \"webhook\", \"url\": \"http://a\",\n"
		   "  \"format\": \"pagerduty\", \"routing_key_file\": \"pd.secret\" } } }\n", 0600,
		   2, 46, "channels.p.routing_key_file", "chmod 600");
	/* one that lacks the key */
	write_file("pd.secret", "{ }", 0600);
	want_error("{ \"channels\": { \"p\": { \"type\": \"webhook\", \"url\": \"http://a\",\n"
		   "  \"format\": \"pagerduty\", \"routing_key_file\": \"pd.secret\" } } }\n", 0600,
		   2, 46, "channels.p.routing_key_file", "holds no \"routing_key\"");
	/* both ways at once */
	write_file("pd.secret", "{ \"routing_key\": \"R\" }", 0600);
	want_error("{ \"channels\": { \"p\": { \"type\": \"webhook\", \"url\": \"http://a\",\n"
		   "  \"format\": \"pagerduty\", \"routing_key_file\": \"pd.secret\", \"routing_key\": \"K\" } } }\n",
		   0600, 2, 74, "channels.p.routing_key", "given both");

	/* inline in a readable file: loads, and says so once */
	cfx_parse(&f,
		  "{ \"channels\": {\n"
		  "  \"p\": { \"type\": \"webhook\", \"url\": \"http://a\", \"format\": \"pagerduty\", \"routing_key\": \"K1\" },\n"
		  "  \"q\": { \"type\": \"webhook\", \"url\": \"http://b\", \"format\": \"pagerduty\", \"routing_key\": \"K2\" } } }\n",
		  0644);
	ASSERT_EQ(f.rc, 0);
	ASSERT_STREQ(ch_named(&f, "q")->routing_key, "K2");
	ASSERT_EQ(f.c.n_warnings, 1);
	ASSERT_CONTAINS(f.c.warnings[0], "channels.p.routing_key");
	ASSERT_CONTAINS(f.c.warnings[0], "routing_key_file");
	/* the key itself is never quoted */
	ASSERT(strstr(f.c.warnings[0], "K1") == NULL);
	cfx_free(&f);

	/* the same in a 0600 file: no warning */
	cfx_parse(&f,
		  "{ \"channels\": { \"p\": { \"type\": \"webhook\", \"url\": \"http://a\",\n"
		  "  \"format\": \"pagerduty\", \"routing_key\": \"K1\" } } }\n", 0600);
	ASSERT_EQ(f.rc, 0);
	ASSERT_EQ(f.c.n_warnings, 0);
	cfx_free(&f);
}

TEST(notify_conf_duplicate_name)
{
	struct cfx f;

	cfx_parse(&f,
		  "{ \"channels\": { \"x\": { \"type\": \"exec\", \"command\": [\"/a\"] },\n"
		  "  \"x\": { \"type\": \"exec\", \"command\": [\"/b\"] } } }\n", 0600);
	ASSERT_EQ(f.rc, -1);
	ASSERT(f.ch == NULL);
	ASSERT_GE(f.e.n, 1);
	ASSERT_CONTAINS(f.e.msgs[0], ":2:3: channels.x: duplicate channel name");
	cfx_free(&f);
}
