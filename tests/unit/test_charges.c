/*
 * test_charges.c - S16, S10: the full table of ticket type x cause x inside
 * the maintenance period, with known answers; then the two flags (analysis
 * report, customer upgrade) across the whole table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "charges.h"

/* Short names for the known-answer table. */
#define QUAL SLA_CHARGE_QUALITY_IN_WARRANTY
#define PEND SLA_CHARGE_CAUSE_PENDING
#define UPGR SLA_CHARGE_UPGRADE_SUPPORT
#define CUST SLA_CHARGE_CUSTOMER_CAUSED
#define THRD SLA_CHARGE_THIRD_PARTY
#define FMAJ SLA_CHARGE_FORCE_MAJEURE
#define DELI SLA_CHARGE_DELIBERATE_DAMAGE
#define OUTW SLA_CHARGE_OUT_OF_WARRANTY
#define ADVI SLA_CHARGE_TECHNICAL_ADVICE
#define TRAI SLA_CHARGE_TRAINING
#define COMP SLA_CHARGE_COMPLAINT
#define INSW SLA_CHARGE_INSPECTION_IN_WARRANTY
#define INSC SLA_CHARGE_INSPECTION_AT_COST
#define FOLL SLA_CHARGE_FOLLOWUP

/* [type][in_warranty][cause]; causes in enum order: unknown, software_quality,
 * vendor_service, customer, third_party, force_majeure, deliberate_damage. */
static const enum sla_charge_reason want[SLA_TYPE_COUNT][2][SLA_CAUSE_COUNT] = {
    /* clang-format off */
    [SLA_TYPE_FAULT] = {
        /* after the period */ {OUTW, OUTW, OUTW, OUTW, OUTW, OUTW, OUTW},
        /* inside it        */ {PEND, QUAL, QUAL, CUST, THRD, FMAJ, DELI},
    },
    [SLA_TYPE_CONSULTING] = {
        {ADVI, ADVI, ADVI, ADVI, ADVI, ADVI, ADVI},
        {ADVI, ADVI, ADVI, ADVI, ADVI, ADVI, ADVI},
    },
    [SLA_TYPE_TRAINING] = {
        {TRAI, TRAI, TRAI, TRAI, TRAI, TRAI, TRAI},
        {TRAI, TRAI, TRAI, TRAI, TRAI, TRAI, TRAI},
    },
    [SLA_TYPE_COMPLAINT] = {
        {COMP, COMP, COMP, COMP, COMP, COMP, COMP},
        {COMP, COMP, COMP, COMP, COMP, COMP, COMP},
    },
    [SLA_TYPE_INSPECTION] = {
        {INSC, INSC, INSC, INSC, INSC, INSC, INSC},
        {INSW, INSW, INSW, INSW, INSW, INSW, INSW},
    },
    [SLA_TYPE_FOLLOWUP] = {
        {FOLL, FOLL, FOLL, FOLL, FOLL, FOLL, FOLL},
        {FOLL, FOLL, FOLL, FOLL, FOLL, FOLL, FOLL},
    },
    /* clang-format on */
};

/* Fault inside the period with the customer-upgrade flag, by cause. */
static const enum sla_charge_reason want_upgrade[SLA_CAUSE_COUNT] = {
    UPGR, UPGR, UPGR, UPGR, UPGR, FMAJ, DELI,
};

static bool billable(enum sla_charge_reason r)
{
	switch (r) {
	case CUST:
	case THRD:
	case FMAJ:
	case DELI:
	case OUTW:
	case TRAI:
	case INSC:
		return true;
	default:
		return false;
	}
}

static void full_table(void **state)
{
	(void)state;
	int rows = 0;

	for (int type = 0; type < SLA_TYPE_COUNT; type++)
		for (int inw = 0; inw < 2; inw++)
			for (int cause = 0; cause < SLA_CAUSE_COUNT; cause++)
				for (int flags = 0; flags < 4; flags++) {
					bool report = flags & 1, upgrade = flags & 2;
					struct sla_charge_facts f = {
					    .type = (enum sla_ticket_type)type,
					    .cause = (enum sla_cause)cause,
					    .in_warranty = inw == 1,
					    .upgrade_compat = upgrade,
					    .analysis_report = report,
					};
					enum sla_charge_reason w = want[type][inw][cause];
					if (upgrade && type == SLA_TYPE_FAULT && inw == 1)
						w = want_upgrade[cause];
					struct sla_charge_decision d;
					print_message(
					    "%s %s %s report=%d upgrade=%d\n",
					    sla_ticket_type_name(f.type), sla_cause_name(f.cause),
					    inw ? "in-warranty" : "after", report, upgrade);
					assert_int_equal(sla_charges_decide(&f, &d), 0);
					assert_string_equal(sla_charges_reason_name(d.reason),
					                    sla_charges_reason_name(w));
					assert_int_equal(d.work_billable, billable(w));
					assert_int_equal(d.report_billable, report);
					assert_int_equal(d.itemised, billable(w) || report);
					assert_int_equal(d.provisional, w == PEND);
					assert_non_null(d.sentence);
					assert_true(strncmp(d.sentence,
					                    billable(w) ? "Billable" : "Free",
					                    billable(w) ? 8 : 4) == 0);
					assert_int_equal(
					    strstr(d.sentence, "analysis report") != NULL, report);
					rows++;
				}
	assert_int_equal(rows, SLA_TYPE_COUNT * 2 * SLA_CAUSE_COUNT * 4);
}

static void sentences(void **state)
{
	(void)state;
	struct sla_charge_facts f = {
	    .type = SLA_TYPE_FAULT, .cause = SLA_CAUSE_SOFTWARE_QUALITY, .in_warranty = true};
	struct sla_charge_decision d;

	assert_int_equal(sla_charges_decide(&f, &d), 0);
	assert_string_equal(d.sentence, "Free: a quality or vendor-service fault inside the "
	                                "maintenance period is repaired without labour, material "
	                                "or management fees (S10).");
	f.analysis_report = true;
	assert_int_equal(sla_charges_decide(&f, &d), 0);
	assert_false(d.work_billable);
	assert_true(d.report_billable);
	assert_true(d.itemised);
	assert_string_equal(d.sentence,
	                    "Free: a quality or vendor-service fault inside the maintenance period "
	                    "is repaired without labour, material or management fees (S10); the "
	                    "requested analysis report is billed on its own line (S16).");
	/* every reason has its own name and both sentences */
	for (int r = 0; r < SLA_CHARGE_REASON_COUNT; r++) {
		const char *n = sla_charges_reason_name((enum sla_charge_reason)r);
		assert_string_not_equal(n, "invalid");
		for (int s = 0; s < r; s++)
			assert_string_not_equal(n,
			                        sla_charges_reason_name((enum sla_charge_reason)s));
	}
	assert_string_equal(sla_charges_reason_name(SLA_CHARGE_REASON_COUNT), "invalid");
	assert_string_equal(sla_charges_reason_name((enum sla_charge_reason) - 1), "invalid");
}

static void bad_input(void **state)
{
	(void)state;
	struct sla_charge_facts f = {.type = SLA_TYPE_FAULT, .cause = SLA_CAUSE_CUSTOMER};
	struct sla_charge_decision d = {.reason = SLA_CHARGE_FOLLOWUP, .sentence = "untouched"};

	assert_int_equal(sla_charges_decide(NULL, &d), -1);
	assert_int_equal(sla_charges_decide(&f, NULL), -1);
	f.type = SLA_TYPE_COUNT;
	assert_int_equal(sla_charges_decide(&f, &d), -1);
	f.type = (enum sla_ticket_type) - 1;
	assert_int_equal(sla_charges_decide(&f, &d), -1);
	f.type = SLA_TYPE_FAULT;
	f.cause = SLA_CAUSE_COUNT;
	assert_int_equal(sla_charges_decide(&f, &d), -1);
	f.cause = (enum sla_cause) - 2;
	assert_int_equal(sla_charges_decide(&f, &d), -1);
	/* a refused call leaves *out alone */
	assert_int_equal(d.reason, SLA_CHARGE_FOLLOWUP);
	assert_string_equal(d.sentence, "untouched");
}

/* The provisional verdict flips once the cause is known (S10). */
static void cause_established_later(void **state)
{
	(void)state;
	struct sla_charge_facts f = {.type = SLA_TYPE_FAULT, .in_warranty = true};
	struct sla_charge_decision d;

	assert_int_equal(sla_charges_decide(&f, &d), 0);
	assert_false(d.work_billable);
	assert_true(d.provisional);
	f.cause = SLA_CAUSE_CUSTOMER;
	assert_int_equal(sla_charges_decide(&f, &d), 0);
	assert_true(d.work_billable);
	assert_false(d.provisional);
	assert_true(d.itemised);
	f.cause = SLA_CAUSE_VENDOR_SERVICE;
	assert_int_equal(sla_charges_decide(&f, &d), 0);
	assert_false(d.work_billable);
	assert_false(d.provisional);
	assert_false(d.itemised);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(full_table),
	    cmocka_unit_test(sentences),
	    cmocka_unit_test(bad_input),
	    cmocka_unit_test(cause_established_later),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
