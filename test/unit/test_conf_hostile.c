/* The config loader against hostile files: FIFOs and devices where files
 * or MIB directories are named (an error, never a hang), nesting deep
 * enough to make a quadratic tokenizer take minutes, secrets that must not
 * reach the log, secret files owned by someone else, invalid UTF-8, and a
 * storage.path that cannot be a database. */
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test/unit/conf_util.h"

#define HOST "\"name\": \"h1\", \"address\": \"127.0.0.1\", " \
	     "\"metrics\": { \"m\": \".1.3.6.1.4.1.99999.1.0\" }"
#define V3_SECRETS "\"snmp\": { \"version\": \"3\", \"user\": \"vigilv3\", " \
		   "\"auth_protocol\": \"SHA\", \"priv_protocol\": \"AES\", \"secrets\": \"s.json\" }"

/* A hang here would otherwise hang the suite: the runner's fork dies. */
static void guard(unsigned s)
{
	alarm(s);
}

/* The load fails and some message contains needle. */
static void expect_msg(const char *path, const char *needle)
{
	struct vgl_conf *c = NULL;
	struct vgl_conf_errors e;
	int found = 0;

	ASSERT_EQ(vgl_conf_load(path, &c, &e), -1);
	for (size_t i = 0; i < e.n; i++)
		found |= strstr(e.msgs[i], needle) != NULL;
	if (!found)
		dump_errors(&e);
	vgl_conf_errors_free(&e);
	ASSERT(found);
}

static void fifo(const char *name)
{
	ASSERT_EQ(mkfifo(tpath(name), 0600), 0);
}

TEST(conf_fifo_main_file)
{
	guard(10);
	fifo("vigil.json");
	expect_msg(tpath("vigil.json"), "vigil.json: is a FIFO, not a regular file");
}

TEST(conf_fifo_in_include_dir)
{
	guard(10);
	ASSERT_EQ(mkdir(tpath("hosts.d"), 0755), 0);
	write_file("hosts.d/a.json", "{ \"hosts\": [] }", 0644);
	fifo("hosts.d/b.json");
	write_file("vigil.json", "{ \"include\": \"hosts.d\" }", 0644);
	expect_msg(tpath("vigil.json"), "hosts.d/b.json: is a FIFO, not a regular file");
}

TEST(conf_fifo_secret_file)
{
	guard(10);
	fifo("s.json");
	write_file("vigil.json", "{ \"hosts\": [ { " HOST ",\n  " V3_SECRETS " } ] }", 0600);
	expect_msg(tpath("vigil.json"), "secret file '");
	expect_msg(tpath("vigil.json"), "s.json' is a FIFO, not a regular file");
}

TEST(conf_fifo_or_device_in_mib_dir)
{
	guard(10);
	ASSERT_EQ(mkdir(tpath("mibs"), 0755), 0);
	fifo("mibs/PIPE-MIB.txt");
	write_file("vigil.json", "{ \"mibs\": { \"dirs\": [\"mibs\"] } }", 0644);
	expect_msg(tpath("vigil.json"), "holds 'PIPE-MIB.txt', a FIFO: reading it would block");
	write_file("vigil.json", "{ \"mibs\": { \"dirs\": [\"/dev\"] } }", 0644);
	expect_msg(tpath("vigil.json"), "MIB directory '/dev' holds '");
}

/* 1,000,000 levels (2 MB): refused at the first bracket past 64, in one
 * pass; jsmn alone took over a minute on it. */
TEST(conf_deep_nesting_refused_before_tokenizing)
{
	size_t depth = 1000000;
	char *text = malloc(2 * depth + 32), *p = text;
	FILE *f;

	guard(20);
	ASSERT(text);
	p += sprintf(p, "{ \"x\": ");
	memset(p, '[', depth);
	p += depth;
	memset(p, ']', depth);
	p += depth;
	strcpy(p, " }");
	f = fopen(tpath("vigil.json"), "w");
	ASSERT(f);
	ASSERT_EQ(fwrite(text, 1, strlen(text), f), strlen(text));
	ASSERT_EQ(fclose(f), 0);
	free(text);
	/* the object is level 1: the 64th '[', at column 8 + 63, is level 65 */
	expect_msg(tpath("vigil.json"), "vigil.json:1:71: syntax error: nested more than 64 levels");
}

TEST(conf_secret_file_errors_never_show_the_text)
{
	struct vgl_conf *c = NULL;
	struct vgl_conf_errors e;

	write_file("vigil.json", "{ \"hosts\": [ { " HOST ",\n  " V3_SECRETS " } ] }", 0600);
	write_file("s.json", "{ \"auth_key\": tru3-s3cret-k3y-v4lue }", 0600);
	ASSERT_EQ(vgl_conf_load(tpath("vigil.json"), &c, &e), -1);
	ASSERT(e.n >= 1);
	for (size_t i = 0; i < e.n; i++)
		ASSERT(!strstr(e.msgs[i], "s3cret") && !strstr(e.msgs[i], "tru3"));
	ASSERT_CONTAINS(e.msgs[0], "s.json:1:15: syntax error: invalid literal (its text is not shown");
	vgl_conf_errors_free(&e);
	/* a stray byte inside the value: position only */
	write_file("s.json", "{ \"auth_key\": \"vigil-auth-pass\" x }", 0600);
	expect_msg(tpath("vigil.json"), "s.json:1:33: syntax error: unexpected text, expected");
	/* and a plain config still shows what it found */
	write_file("vigil.json", "{ \"hosts\": tru3 }", 0644);
	expect_msg(tpath("vigil.json"), "invalid literal 'tru3'");
}

TEST(conf_secret_file_owner)
{
	struct vgl_conf *c = NULL;
	struct vgl_conf_errors e;

	if (geteuid() != 0) {
		fprintf(stderr, "not root: cannot give a file to another owner; skipped\n");
		return;
	}
	write_file("vigil.json", "{ \"hosts\": [ { " HOST ",\n  " V3_SECRETS " } ] }", 0600);
	write_file("s.json", "{ \"auth_key\": \"vigil-auth-pass\", \"priv_key\": \"vigil-priv-pass\" }",
		   0600);
	ASSERT_EQ(chown(tpath("s.json"), 12345, 12345), 0);
	expect_msg(tpath("vigil.json"), "s.json' is owned by uid 12345: only root, uid 0");
	/* the main configuration's owner may own it (root reading the
	 * deployment of the vigil user) */
	ASSERT_EQ(chown(tpath("vigil.json"), 12345, 12345), 0);
	ASSERT_EQ(vgl_conf_load(tpath("vigil.json"), &c, &e), 0);
	vgl_conf_errors_free(&e);
	vgl_conf_free(c);
}

TEST(conf_inline_secrets_in_a_readable_file_warn)
{
	const char *text = "{ \"hosts\": [ { " HOST ", \"snmp\": { \"community\": \"s3cret\" } } ] }";
	struct vgl_conf *c = NULL;
	struct vgl_conf_errors e;

	write_file("vigil.json", text, 0644);
	ASSERT_EQ(vgl_conf_load(tpath("vigil.json"), &c, &e), 0);
	ASSERT_EQ(c->n_warnings, 1);
	ASSERT_CONTAINS(c->warnings[0], "vigil.json: holds SNMP secrets inline");
	ASSERT_CONTAINS(c->warnings[0], "(mode 0644)");
	ASSERT(!strstr(c->warnings[0], "s3cret"));
	vgl_conf_errors_free(&e);
	vgl_conf_free(c);
	write_file("vigil.json", text, 0600);
	ASSERT_EQ(vgl_conf_load(tpath("vigil.json"), &c, &e), 0);
	ASSERT_EQ(c->n_warnings, 0);
	vgl_conf_errors_free(&e);
	vgl_conf_free(c);
}

TEST(conf_invalid_utf8_refused)
{
	write_file("vigil.json", "{ \"hosts\": [ { \"name\": \"h\xff\x31\", \"address\": \"127.0.0.1\" } ] }",
		   0644);
	expect_msg(tpath("vigil.json"), "vigil.json:1:26: syntax error: invalid UTF-8 (byte 0xff)");
	/* overlong '/' and a surrogate */
	write_file("vigil.json", "{ \"include\": \"\xc0\xaf\" }", 0644);
	expect_msg(tpath("vigil.json"), "invalid UTF-8 (byte 0xc0)");
	write_file("vigil.json", "{ \"include\": \"\xed\xa0\x80\" }", 0644);
	expect_msg(tpath("vigil.json"), "invalid UTF-8 (byte 0xed)");
	/* valid multibyte text is fine, in strings and in comments */
	write_file("vigil.json", "{ // Hà Nội\n \"hosts\": [ { " HOST ", \"site\": \"Hà Nội\", "
		   "\"snmp\": { \"community\": \"public\" } } ] }", 0600);
	{
		struct vgl_conf *c = NULL;
		struct vgl_conf_errors e;

		ASSERT_EQ(vgl_conf_load(tpath("vigil.json"), &c, &e), 0);
		ASSERT_STREQ(c->hosts[0].site, "Hà Nội");
		vgl_conf_errors_free(&e);
		vgl_conf_free(c);
	}
}

TEST(conf_storage_path_must_be_a_database_file)
{
	write_file("vigil.json", "{ \"storage\": { \"path\": \"/dev/null\" } }", 0644);
	expect_msg(tpath("vigil.json"), "storage.path: '/dev/null' is a device, not a database file");
	ASSERT_EQ(mkdir(tpath("d"), 0755), 0);
	write_file("vigil.json", "{ \"storage\": { \"path\": \"d\" } }", 0644);
	expect_msg(tpath("vigil.json"), "d' is a directory, not a database file");
	write_file("f", "", 0644);
	write_file("vigil.json", "{ \"storage\": { \"path\": \"f/v.db\" } }", 0644);
	expect_msg(tpath("vigil.json"), "f/v.db': Not a directory");
}
