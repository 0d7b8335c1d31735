/* The message IDs of one ISAKMP SA (daemon/ikev1/msgid_memory.h): what is
 * remembered is found, 0 never is, each lane forgets its own oldest ID
 * and only that one, a lane full of Informationals leaves the Quick Mode
 * IDs alone, and the index stays right through many evictions, also when
 * the IDs are chosen to collide in it (checked against a plain list). */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "daemon/ikev1/msgid_memory.h"

static void test_empty(void)
{
	struct msgid_memory m = { 0 };
	g_assert_false(msgid_memory_has(&m, 0));
	g_assert_false(msgid_memory_has(&m, 1));
	msgid_memory_add(&m, MSGID_LANE_EXCHANGE, 0);
	g_assert_false(msgid_memory_has(&m, 0));
	msgid_memory_add(&m, MSGID_LANE_INFO, 0xdeadbeef);
	g_assert_true(msgid_memory_has(&m, 0xdeadbeef));
	g_assert_false(msgid_memory_has(&m, 0xdeadbeee));
	/* once only, whatever the lane */
	msgid_memory_add(&m, MSGID_LANE_EXCHANGE, 0xdeadbeef);
	g_assert_cmpuint(m.ids[0], ==, 0);
}

static void test_lane_forgets_oldest(void)
{
	struct msgid_memory m = { 0 };
	for (uint32_t id = 1; id <= MSGID_LANE_SLOTS; id++)
		msgid_memory_add(&m, MSGID_LANE_EXCHANGE, id);
	for (uint32_t id = 1; id <= MSGID_LANE_SLOTS; id++)
		g_assert_true(msgid_memory_has(&m, id));
	msgid_memory_add(&m, MSGID_LANE_EXCHANGE, 1000);
	g_assert_false(msgid_memory_has(&m, 1));
	for (uint32_t id = 2; id <= MSGID_LANE_SLOTS; id++)
		g_assert_true(msgid_memory_has(&m, id));
	g_assert_true(msgid_memory_has(&m, 1000));
}

static void test_info_spares_exchanges(void)
{
	struct msgid_memory m = { 0 };
	msgid_memory_add(&m, MSGID_LANE_EXCHANGE, 0x51515151);
	/* an hour of DPD every 30 s, both ways, with ACKs */
	for (uint32_t id = 1; id <= 480; id++)
		msgid_memory_add(&m, MSGID_LANE_INFO, 0x80000000u + id);
	g_assert_true(msgid_memory_has(&m, 0x51515151));
	g_assert_true(msgid_memory_has(&m, 0x80000000u + 480));
	g_assert_true(msgid_memory_has(&m, 0x80000000u + 480 - MSGID_LANE_SLOTS + 1));
	g_assert_false(msgid_memory_has(&m, 0x80000000u + 480 - MSGID_LANE_SLOTS));
}

/* Against a plain list of what each lane holds, over many random IDs. */
static void check_against_model(GRand *r, bool colliding)
{
	struct msgid_memory m = { 0 };
	uint32_t model[MSGID_LANES][MSGID_LANE_SLOTS] = { { 0 } };
	unsigned next[MSGID_LANES] = { 0 };
	GArray *all = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	for (unsigned n = 0; n < 20000; n++) {
		/* colliding: few distinct IDs, so repeats and long probe runs */
		uint32_t id = colliding ? g_rand_int_range(r, 1, 200) : g_rand_int(r);
		if (id == 0)
			continue;
		unsigned lane = g_rand_int_range(r, 0, MSGID_LANES);
		bool known = false;
		for (unsigned l = 0; l < MSGID_LANES; l++)
			for (unsigned i = 0; i < MSGID_LANE_SLOTS; i++)
				known |= model[l][i] == id;
		g_assert_cmpint(msgid_memory_has(&m, id), ==, known);
		msgid_memory_add(&m, (enum msgid_lane)lane, id);
		if (!known) {
			model[lane][next[lane]] = id;
			next[lane] = (next[lane] + 1) % MSGID_LANE_SLOTS;
		}
		g_array_append_val(all, id);
		/* everything ever added: remembered exactly when the model has it */
		if (n % 997 == 0) {
			for (guint k = 0; k < all->len; k++) {
				uint32_t x = g_array_index(all, uint32_t, k);
				bool in = false;
				for (unsigned l = 0; l < MSGID_LANES; l++)
					for (unsigned i = 0; i < MSGID_LANE_SLOTS; i++)
						in |= model[l][i] == x;
				g_assert_cmpint(msgid_memory_has(&m, x), ==, in);
			}
		}
	}
	g_array_free(all, TRUE);
}

static void test_model_random(void)
{
	GRand *r = g_rand_new_with_seed(14);
	check_against_model(r, false);
	g_rand_free(r);
}

static void test_model_colliding(void)
{
	GRand *r = g_rand_new_with_seed(3);
	check_against_model(r, true);
	g_rand_free(r);
}

static void test_small(void)
{
	/* per ISAKMP SA, made once it is used: no kilobytes */
	g_assert_cmpuint(sizeof(struct msgid_memory), <=, 400);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/msgid-memory/empty", test_empty);
	g_test_add_func("/msgid-memory/lane-forgets-oldest", test_lane_forgets_oldest);
	g_test_add_func("/msgid-memory/info-spares-exchanges", test_info_spares_exchanges);
	g_test_add_func("/msgid-memory/model-random", test_model_random);
	g_test_add_func("/msgid-memory/model-colliding", test_model_colliding);
	g_test_add_func("/msgid-memory/small", test_small);
	return g_test_run();
}
