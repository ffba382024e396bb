/* The "api" section (conf/api_load.c): defaults, listen addresses, the
 * tokens file held to the secret-file rules, TLS files in pairs, and every
 * refusal at its FILE:LINE:COL. */
#include <stdio.h>
#include <string.h>

#include "conf/conf.h"
#include "test/test.h"
#include "test/unit/conf_util.h"

#define HOSTS "\"hosts\": [ { \"name\": \"h\", \"address\": \"127.0.0.1\", " \
	      "\"sources\": { \"t\": { \"type\": \"tcp\", \"port\": 9 } }, " \
	      "\"metrics\": { \"up\": { \"source\": \"t\", \"value\": \"up\" } } } ]"

static void with_api(char *buf, size_t n, const char *api)
{
	snprintf(buf, n, "{\n  \"api\": %s,\n  " HOSTS "\n}\n", api);
}

static const char *tokens_ok =
	"{ \"tokens\": [ { \"name\": \"alice\", \"role\": \"operator\", "
	"\"token\": \"0123456789abcdef0123\" },\n"
	"  { \"name\": \"wall\", \"role\": \"read\", \"token\": \"fedcba9876543210fedc\" } ] }\n";

TEST(conf_api_absent_and_defaults)
{
	char t[2048];
	struct vgl_conf *c;

	snprintf(t, sizeof(t), "{ " HOSTS " }\n");
	c = load_ok(t);
	ASSERT(c->api == NULL);
	vgl_conf_free(c);
	with_api(t, sizeof(t), "{}");
	c = load_ok(t);
	ASSERT(c->api != NULL);
	ASSERT_STREQ(c->api->listen_host, "127.0.0.1");
	ASSERT_EQ(c->api->port, 8765);
	ASSERT_EQ(c->api->max_body, 65536);
	ASSERT_EQ(c->api->n_tokens, 0);
	ASSERT_EQ(c->api->read_requires_token, 0);
	ASSERT(c->api->tls_cert_pem == NULL);
	vgl_conf_free(c);
}

TEST(conf_api_listen_forms)
{
	char t[2048];
	struct vgl_conf *c;

	with_api(t, sizeof(t), "{ \"listen\": \"[::1]:9000\" }");
	c = load_ok(t);
	ASSERT_STREQ(c->api->listen_host, "::1");
	ASSERT_EQ(c->api->port, 9000);
	vgl_conf_free(c);
	with_api(t, sizeof(t), "{ \"listen\": \"127.0.0.2\" }");
	c = load_ok(t);
	ASSERT_STREQ(c->api->listen_host, "127.0.0.2");
	ASSERT_EQ(c->api->port, 8765);
	vgl_conf_free(c);
	with_api(t, sizeof(t), "{ \"listen\": \"localhost:80\" }");
	expect_error(t, "2:22: api.listen: 'localhost:80': 'localhost' is not a numeric IP address");
	with_api(t, sizeof(t), "{ \"listen\": \"127.0.0.1:70000\" }");
	expect_error(t, "2:22: api.listen: '127.0.0.1:70000': port must be 1-65535");
	with_api(t, sizeof(t), "{ \"listen\": \"::1:80\" }");
	expect_error(t, "2:22: api.listen: '::1:80': an IPv6 address goes in brackets");
	with_api(t, sizeof(t), "{ \"port\": 80 }");
	expect_error(t, "2:12: api.port: unknown key");
}

TEST(conf_api_tokens)
{
	char t[2048];
	struct vgl_conf *c;

	write_file("tok.json", tokens_ok, 0600);
	with_api(t, sizeof(t), "{ \"tokens_file\": \"tok.json\", \"read_requires_token\": true }");
	c = load_ok(t);
	ASSERT_EQ(c->api->n_tokens, 2);
	ASSERT_STREQ(c->api->tokens[0].name, "alice");
	ASSERT_EQ(c->api->tokens[0].role, VGL_API_OPERATOR);
	ASSERT_STREQ(c->api->tokens[1].token, "fedcba9876543210fedc");
	ASSERT_EQ(c->api->tokens[1].role, VGL_API_READ);
	ASSERT_EQ(c->api->read_requires_token, 1);
	vgl_conf_free(c);

	/* others may read it: refused, naming the fix */
	write_file("tok.json", tokens_ok, 0640);
	with_api(t, sizeof(t), "{ \"tokens_file\": \"tok.json\" }");
	expect_error(t, "2:27: api.tokens_file: secret file");
	with_api(t, sizeof(t), "{ \"tokens_file\": \"none.json\" }");
	expect_error(t, "2:27: api.tokens_file: tokens file");
	with_api(t, sizeof(t), "{ \"read_requires_token\": true }");
	expect_error(t, "2:35: api.read_requires_token: needs a tokens_file");
}

TEST(conf_api_tokens_refused_inside_the_file)
{
	char t[2048];

	with_api(t, sizeof(t), "{ \"tokens_file\": \"tok.json\" }");
	write_file("tok.json",
		   "{ \"tokens\": [ { \"name\": \"a\", \"role\": \"admin\", "
		   "\"token\": \"0123456789abcdef\" } ] }", 0600);
	expect_error_in(t, "tok.json", "1:38: tokens[0].role: expected \"read\" or \"operator\"");
	write_file("tok.json",
		   "{ \"tokens\": [ { \"name\": \"a\", \"role\": \"read\", \"token\": \"short\" } ] }",
		   0600);
	expect_error_in(t, "tok.json", "1:55: tokens[0].token: 16-512 characters without spaces "
			"(its text is not shown)");
	write_file("tok.json",
		   "{ \"tokens\": [ { \"name\": \"a\", \"role\": \"read\", \"token\": \"0123456789abcdef\" },"
		   " { \"name\": \"b\", \"role\": \"read\", \"token\": \"0123456789abcdef\" } ] }", 0600);
	expect_error_in(t, "tok.json", "1:77: tokens[1]: same token as tokens[0]");
	write_file("tok.json", "{ \"tokens\": [ { \"name\": \"a\", \"role\": \"read\" } ] }", 0600);
	expect_error_in(t, "tok.json", "1:15: tokens[0]: missing \"token\"");
	write_file("tok.json", "{ }", 0600);
	expect_error_in(t, "tok.json", "1:1: missing \"tokens\"");
}

TEST(conf_api_tls_pairs)
{
	char t[2048];
	struct vgl_conf *c;

	write_file("cert.pem", "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n",
		   0644);
	write_file("key.pem", "-----BEGIN PRIVATE KEY-----\nAA==\n-----END PRIVATE KEY-----\n",
		   0600);
	with_api(t, sizeof(t), "{ \"tls_cert\": \"cert.pem\", \"tls_key\": \"key.pem\" }");
	c = load_ok(t);
	ASSERT(strstr(c->api->tls_cert_pem, "BEGIN CERTIFICATE") != NULL);
	ASSERT(strstr(c->api->tls_key_pem, "BEGIN PRIVATE KEY") != NULL);
	vgl_conf_free(c);
	with_api(t, sizeof(t), "{ \"tls_cert\": \"cert.pem\" }");
	expect_error(t, "2:24: api.tls_cert: tls_cert and tls_key go together");
	write_file("key.pem", "-----BEGIN PRIVATE KEY-----\n", 0644);
	with_api(t, sizeof(t), "{ \"tls_cert\": \"cert.pem\", \"tls_key\": \"key.pem\" }");
	expect_error(t, "2:47: api.tls_key: secret file");
	write_file("key.pem", "not a key\n", 0600);
	expect_error(t, "2:47: api.tls_key:");
}
