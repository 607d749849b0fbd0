/*
 * reasons: the table of decline and refusal reasons. See reasons.h.
 */
#include "reasons.h"

#include <string.h>

static const reasons_row reasons_table[] = {
    /* declines: a swipe or a balance inquiry answered 200 "declined" */
    {"card_unknown", false, "card_no: no such card", "卡号无效"},
    {"card_frozen", false, "card_no: the card is frozen", "此卡已冻结，请到服务窗口办理"},
    {"card_lost", false, "card_no: the card was reported lost or replaced", "此卡已挂失或换卡"},
    {"pin_invalid", false, "pin: wrong PIN", "密码错误"},
    {"pin_locked", false, "pin: locked after five wrong PINs; an operator unlocks it",
     "密码已锁定，请到服务窗口解锁"},
    {"person_ineligible", false, "item_code: the card holder is not entitled to this item",
     "持卡人不享受此服务项目"},
    {"item_unknown", false, "item_code: not an item of the service catalogue", "服务项目不存在"},
    {"item_not_allowed", false, "item_code: the card holds no credit for this item",
     "此卡无此项目额度"},
    {"provider_not_designated", false,
     "item_code: this terminal's provider is not designated for the item",
     "本机构不是此项目的定点机构"},
    {"provider_suspended", false, "this terminal's provider is suspended", "本机构已暂停服务"},
    {"insufficient_funds", false, "amount_fen: more than the item's balance on the card",
     "余额不足"},
    {"daily_cap_exceeded", false, "amount_fen: over the item's daily cap for the card holder",
     "超过当日限额"},
    {"annual_cap_exceeded", false, "amount_fen: over the item's annual cap for the card holder",
     "超过年度限额"},
    {"amount_over_standard", false, "amount_fen: more than the item's standard amount a swipe",
     "超过单次标准金额"},
    {"amount_not_priced", false, "amount_fen: not a whole number of sessions at the item's price",
     "金额须为服务单价的整数倍"},
    {"item_paid_to_person", false,
     "item_code: paid into the card holder's own account, never by card",
     "此项目直接发放至本人账户，不能刷卡"},
    {"provider_not_quoted", false, "item_code: spent only at the provider whose quote was approved",
     "此项目须在报价获批的机构使用"},
    {"item_paused", false,
     "item_code: paused by the monthly training check (no attendance); attendance at the "
     "provider resumes it",
     "此培训项目因未按时参训已暂停，参训后恢复"},
    /* refusals: 409 */
    {"request_id_reused", true, "request_id: used before with another body",
     "请求编号已使用，请核对后重试"},
    {"swipe_unknown", true, "swipe_id: no such swipe", "交易不存在"},
    {"swipe_of_another_terminal", true, "swipe_id: the swipe was made on another terminal",
     "非本终端的交易"},
    {"already_reversed", true, "swipe_id: the swipe is reversed already", "交易已撤销"},
    {"too_old", true, "swipe_id: too old (a reversal within 24 hours, a rating within 7 days)",
     "交易已超过可操作时限"},
    {"swipe_reversed", true, "swipe_id: the swipe was reversed, there is nothing to rate",
     "交易已撤销，不能评价"},
    {"already_rated", true, "swipe_id: the swipe is rated already", "此交易已评价"},
};

const reasons_row *reasons_find(const char *code)
{
    for (size_t i = 0; code && i < sizeof(reasons_table) / sizeof(reasons_table[0]); i++)
        if (strcmp(reasons_table[i].code, code) == 0)
            return &reasons_table[i];
    return NULL;
}

const reasons_row *reasons_all(size_t *n)
{
    *n = sizeof(reasons_table) / sizeof(reasons_table[0]);
    return reasons_table;
}
