/* common/words.c: the --optionsfrom splitter pluto and whack share. */
#include <glib.h>
#include <glib/gstdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/bounded_file.h"
#include "common/words.h"

/* split text and compare with the expected words (NULL-terminated) */
static void expect(const char *text, const char *const *want)
{
	struct words w;
	char err[256] = "";
	if (words_split(text, strlen(text), "t.opts", &w, err, sizeof(err)) < 0)
		g_error("\"%s\": unexpected error: %s", text, err);
	size_t n = 0;
	while (want[n])
		n++;
	if (w.n != n)
		g_error("\"%s\": %zu words, expected %zu (first: \"%s\")", text, w.n, n, w.n ? w.v[0] : "");
	for (size_t i = 0; i < n; i++)
		g_assert_cmpstr(w.v[i], ==, want[i]);
	g_assert_null(w.v ? w.v[w.n] : NULL);
	words_free(&w);
}

#define EXPECT(text, ...) expect(text, (const char *const[]){ __VA_ARGS__, NULL })
#define EXPECT_NONE(text) expect(text, (const char *const[]){ NULL })

static void test_blanks(void)
{
	EXPECT("--a --b", "--a", "--b");
	EXPECT("  --a\t\t--b  \n\n--c\r\n", "--a", "--b", "--c");
	EXPECT_NONE("");
	EXPECT_NONE(" \t\r\n ");
}

static void test_quotes(void)
{
	EXPECT("--name \"my conn\"", "--name", "my conn");
	EXPECT("--updown '/bin/echo a  b'", "--updown", "/bin/echo a  b");
	EXPECT("a\"b c\"d", "ab cd");                 /* parts join into one word */
	EXPECT("'it''s'", "its");
	EXPECT("\"it's\" 'say \"hi\"'", "it's", "say \"hi\"");
	EXPECT("\"\" ''", "", "");                    /* empty words */
	EXPECT("\"a # not a comment\"", "a # not a comment");
	EXPECT("\"two\nlines\"", "two\nlines");       /* a quoted newline stays */
}

static void test_escapes(void)
{
	EXPECT("a\\ b", "a b");
	EXPECT("\\#not-a-comment", "#not-a-comment");
	EXPECT("back\\\\slash", "back\\slash");
	EXPECT("\\\"", "\"");
	EXPECT("joined\\\nline", "joinedline");       /* backslash-newline joins */
	EXPECT("a \\\n b", "a", "b");
	/* in double quotes only \" \\ and \newline are escapes */
	EXPECT("\"a\\\"b\"", "a\"b");
	EXPECT("\"a\\\\b\"", "a\\b");
	EXPECT("\"a\\nb\"", "a\\nb");
	EXPECT("\"a\\\nb\"", "ab");
	/* in single quotes nothing is */
	EXPECT("'a\\b\\'", "a\\b\\");
}

static void test_comments(void)
{
	EXPECT("# a comment --bogus\n--name x", "--name", "x");
	EXPECT("--a # the rest --b\n--c", "--a", "--c");
	EXPECT("--a#b", "--a#b");                     /* only at the start of a word */
	EXPECT_NONE("# only a comment");
	EXPECT("--a #", "--a");
}

/* errors name the file and the line */
static void expect_error(const char *text, size_t len, const char *needle1, const char *needle2)
{
	struct words w = { (char **)1, 99 };
	char err[256] = "";
	g_assert_cmpint(words_split(text, len, "t.opts", &w, err, sizeof(err)), ==, -1);
	if (!strstr(err, needle1) || !strstr(err, needle2))
		g_error("\"%s\": error \"%s\" lacks \"%s\" or \"%s\"", text, err, needle1, needle2);
	g_assert_cmpuint(w.n, ==, 0);
	g_assert_null(w.v);
}

static void test_errors(void)
{
	expect_error("--a\n--b\n--name \"unterminated\n--c\n", strlen("--a\n--b\n--name \"unterminated\n--c\n"),
		     "t.opts:3:", "unterminated quote");
	expect_error("'open", 5, "t.opts:1:", "unterminated quote");
	expect_error("--a\n\"x\\\"\n", 8, "t.opts:2:", "unterminated quote");
	expect_error("--a\n--b \\", 9, "t.opts:2:", "backslash at the end");
	expect_error("--a\n--b\0--c", 11, "t.opts:2:", "NUL");
}

static void test_file(void)
{
	char *dir = g_dir_make_tmp("words-XXXXXX", NULL);
	g_assert_nonnull(dir);
	char *path = g_build_filename(dir, "opts", NULL);
	g_assert_true(g_file_set_contents(path, "# c\n--name 'a b' \\\n --psk\n", -1, NULL));
	struct words w;
	char err[512] = "";
	g_assert_cmpint(words_from_file(path, &w, err, sizeof(err)), ==, 0);
	g_assert_cmpuint(w.n, ==, 3);
	g_assert_cmpstr(w.v[1], ==, "a b");
	g_assert_cmpstr(w.v[2], ==, "--psk");
	words_free(&w);

	g_assert_true(g_file_set_contents(path, "--ok\n--name \"x\n", -1, NULL));
	g_assert_cmpint(words_from_file(path, &w, err, sizeof(err)), ==, -1);
	char *want = g_strdup_printf("%s:2: unterminated quote", path);
	g_assert_nonnull(strstr(err, want));
	g_free(want);

	g_unlink(path);
	g_assert_cmpint(words_from_file(path, &w, err, sizeof(err)), ==, -1);
	g_assert_nonnull(strstr(err, path));
	g_assert_nonnull(strstr(err, "No such file"));
	g_rmdir(dir);
	g_free(path);
	g_free(dir);
}

/* Only regular files up to BOUNDED_FILE_MAX: never blocking on a FIFO,
 * never reading /dev/zero to the end. */
static void test_file_refused(void)
{
	char *dir = g_dir_make_tmp("words-XXXXXX", NULL);
	g_assert_nonnull(dir);
	char *fifo = g_build_filename(dir, "fifo", NULL);
	char *big = g_build_filename(dir, "big", NULL);
	g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
	int fd = open(big, O_WRONLY | O_CREAT, 0600);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(ftruncate(fd, (off_t)BOUNDED_FILE_MAX + 1), ==, 0);
	close(fd);
	struct {
		const char *path, *why;
	} cases[] = {
		{ "/dev/zero", "not a regular file (a character device)" },
		{ fifo, "not a regular file (a FIFO)" },
		{ dir, "not a regular file (a directory)" },
		{ big, "larger than 16 MiB" },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct words w;
		char err[512] = "";
		g_assert_cmpint(words_from_file(cases[i].path, &w, err, sizeof(err)), ==, -1);
		g_assert_nonnull(strstr(err, cases[i].path));
		g_assert_nonnull(strstr(err, cases[i].why));
		g_assert_cmpuint(w.n, ==, 0);
	}
	/* at the limit exactly: read */
	g_assert_cmpint(truncate(big, BOUNDED_FILE_MAX), ==, 0);
	size_t len = 0;
	char err[512] = "";
	char *text = bounded_read_file(big, BOUNDED_FILE_MAX, &len, err, sizeof(err));
	g_assert_nonnull(text);
	g_assert_cmpuint(len, ==, BOUNDED_FILE_MAX);
	free(text);
	/* a stream longer than the limit stops one byte past it */
	fd = open("/dev/zero", O_RDONLY);
	const char *why = NULL;
	g_assert_null(bounded_read_fd(fd, 1000, &len, &why));
	g_assert_cmpstr(why, ==, "larger than 1000 bytes");
	close(fd);
	g_unlink(fifo);
	g_unlink(big);
	g_rmdir(dir);
	g_free(fifo);
	g_free(big);
	g_free(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/words/blanks", test_blanks);
	g_test_add_func("/words/quotes", test_quotes);
	g_test_add_func("/words/escapes", test_escapes);
	g_test_add_func("/words/comments", test_comments);
	g_test_add_func("/words/errors", test_errors);
	g_test_add_func("/words/file", test_file);
	g_test_add_func("/words/file-refused", test_file_refused);
	return g_test_run();
}
