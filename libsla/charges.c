/*
 * charges.c - S16, S10: free or billable, by type, cause and period.  The
 * decision table is in charges.h.
 */
#include "charges.h"

struct reason_info {
	const char *name;
	bool billable;
	const char *sentence[2]; /* [analysis report requested] */
};

#define REPORT_LINE "; the requested analysis report is billed on its own line (S16)."
#define SENTENCES(text)                                                                            \
	{                                                                                          \
		text ".", text REPORT_LINE                                                         \
	}

static const struct reason_info reasons[SLA_CHARGE_REASON_COUNT] = {
    [SLA_CHARGE_QUALITY_IN_WARRANTY] =
        {"quality_in_warranty", false,
         SENTENCES("Free: a quality or vendor-service fault inside the maintenance period is "
                   "repaired without labour, material or management fees (S10)")},
    [SLA_CHARGE_CAUSE_PENDING] =
        {"cause_pending", false,
         SENTENCES("Free for now: the fault is inside the maintenance period and its cause is "
                   "not yet known; decided again once the cause is recorded (S10)")},
    [SLA_CHARGE_UPGRADE_SUPPORT] =
        {"upgrade_support", false,
         SENTENCES("Free: inside the maintenance period the vendor supplies patches and support "
                   "to keep the software running after the customer's upgrade")},
    [SLA_CHARGE_CUSTOMER_CAUSED] =
        {"customer_caused", true,
         SENTENCES("Billable: the fault was caused by the customer; the free repair inside the "
                   "maintenance period covers quality faults only (S10)")},
    [SLA_CHARGE_THIRD_PARTY] =
        {"third_party", true,
         SENTENCES("Billable: the fault was caused by a third party; the free repair inside the "
                   "maintenance period covers quality faults only (S10)")},
    [SLA_CHARGE_FORCE_MAJEURE] =
        {"force_majeure", true,
         SENTENCES("Billable: natural disasters and force majeure are excluded from the free "
                   "maintenance promise (S9, S10)")},
    [SLA_CHARGE_DELIBERATE_DAMAGE] =
        {"deliberate_damage", true,
         SENTENCES("Billable: deliberate damage is excluded from the free maintenance promise "
                   "(S9, S10)")},
    [SLA_CHARGE_OUT_OF_WARRANTY] =
        {"out_of_warranty", true,
         SENTENCES("Billable at cost: the fault is outside the maintenance period, where "
                   "service continues at no more than the market price (S10, S16)")},
    [SLA_CHARGE_TECHNICAL_ADVICE] = {"technical_advice", false,
                                     SENTENCES("Free: technical advice is never charged (S16)")},
    [SLA_CHARGE_TRAINING] =
        {"training", true,
         SENTENCES("Billable: training is charged by content and size, itemised (S16)")},
    [SLA_CHARGE_COMPLAINT] = {"complaint", false,
                              SENTENCES("Free: handling a complaint is never charged (S6)")},
    [SLA_CHARGE_INSPECTION_IN_WARRANTY] =
        {"inspection_in_warranty", false,
         SENTENCES("Free: inspection visits are part of the maintenance period (S11)")},
    [SLA_CHARGE_INSPECTION_AT_COST] =
        {"inspection_at_cost", true,
         SENTENCES("Billable at cost: inspections after the maintenance period are a paid "
                   "service (S10)")},
    [SLA_CHARGE_FOLLOWUP] =
        {"followup", false,
         SENTENCES("Free: follow-up calls are the vendor's own service tracking (S14, S15)")},
};

const char *sla_charges_reason_name(enum sla_charge_reason reason)
{
	if ((int)reason < 0 || reason >= SLA_CHARGE_REASON_COUNT)
		return "invalid";
	return reasons[reason].name;
}

/* Inside the period, a fault's cause decides (S9, S10). */
static const enum sla_charge_reason fault_in_warranty[SLA_CAUSE_COUNT] = {
    [SLA_CAUSE_UNKNOWN] = SLA_CHARGE_CAUSE_PENDING,
    [SLA_CAUSE_SOFTWARE_QUALITY] = SLA_CHARGE_QUALITY_IN_WARRANTY,
    [SLA_CAUSE_VENDOR_SERVICE] = SLA_CHARGE_QUALITY_IN_WARRANTY,
    [SLA_CAUSE_CUSTOMER] = SLA_CHARGE_CUSTOMER_CAUSED,
    [SLA_CAUSE_THIRD_PARTY] = SLA_CHARGE_THIRD_PARTY,
    [SLA_CAUSE_FORCE_MAJEURE] = SLA_CHARGE_FORCE_MAJEURE,
    [SLA_CAUSE_DELIBERATE_DAMAGE] = SLA_CHARGE_DELIBERATE_DAMAGE,
};

static enum sla_charge_reason decide_reason(const struct sla_charge_facts *f)
{
	switch (f->type) {
	case SLA_TYPE_CONSULTING:
		return SLA_CHARGE_TECHNICAL_ADVICE;
	case SLA_TYPE_COMPLAINT:
		return SLA_CHARGE_COMPLAINT;
	case SLA_TYPE_FOLLOWUP:
		return SLA_CHARGE_FOLLOWUP;
	case SLA_TYPE_TRAINING:
		return SLA_CHARGE_TRAINING;
	case SLA_TYPE_INSPECTION:
		return f->in_warranty ? SLA_CHARGE_INSPECTION_IN_WARRANTY
		                      : SLA_CHARGE_INSPECTION_AT_COST;
	case SLA_TYPE_FAULT:
	case SLA_TYPE_COUNT:
		break;
	}
	if (!f->in_warranty)
		return SLA_CHARGE_OUT_OF_WARRANTY;
	/* Adapting to the customer's upgrade is free in the period whatever
	 * the recorded cause -- but deliberate damage and force majeure stay
	 * excluded (S9). */
	if (f->upgrade_compat && f->cause != SLA_CAUSE_FORCE_MAJEURE &&
	    f->cause != SLA_CAUSE_DELIBERATE_DAMAGE)
		return SLA_CHARGE_UPGRADE_SUPPORT;
	return fault_in_warranty[f->cause];
}

int sla_charges_decide(const struct sla_charge_facts *facts, struct sla_charge_decision *out)
{
	if (facts == NULL || out == NULL)
		return -1;
	if ((int)facts->type < 0 || facts->type >= SLA_TYPE_COUNT)
		return -1;
	if ((int)facts->cause < 0 || facts->cause >= SLA_CAUSE_COUNT)
		return -1;

	enum sla_charge_reason r = decide_reason(facts);
	const struct reason_info *info = &reasons[r];
	*out = (struct sla_charge_decision){
	    .work_billable = info->billable,
	    .report_billable = facts->analysis_report,
	    .itemised = info->billable || facts->analysis_report,
	    .provisional = r == SLA_CHARGE_CAUSE_PENDING,
	    .reason = r,
	    .sentence = info->sentence[facts->analysis_report ? 1 : 0],
	};
	return 0;
}
