/*
 * synth: the synthetic district. See synth.h.
 *
 * Proportions (a default, roughly the shape of China's registered disabled
 * population): limb 40%, hearing 15%, visual 12%, intellectual 12%,
 * psychiatric 12%, multiple 7%, speech 2%; grades 1-4 at 15/25/30/30%;
 * care levels for the severe; 低保 10%, near-poor 8%; ages 0-95 weighted
 * towards the old, 8% children.
 */
#include "synth.h"

#include "args.h"

#include "common/cli.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static unsigned long long synth_state;

/* splitmix64 */
static unsigned long long synth_next(void)
{
    unsigned long long z = (synth_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int synth_below(int n)
{
    return (int)(synth_next() % (unsigned long long)n);
}

/* Picks an index by integer weights summing to 100. */
static int synth_pick(const int *w, int n)
{
    int x = synth_below(100), acc = 0;
    for (int i = 0; i < n; i++) {
        acc += w[i];
        if (x < acc)
            return i;
    }
    return n - 1;
}

static const char *const synth_categories[] = {"limb",        "hearing",  "visual", "intellectual",
                                               "psychiatric", "multiple", "speech"};
static const int synth_category_w[] = {40, 15, 12, 12, 12, 7, 2};
static const int synth_grade_w[] = {15, 25, 30, 30};
static const char *const synth_towns[] = {"桂园街道", "黄贝街道",  "东门街道", "翠竹街道",
                                          "南湖街道", "笋岗街道",  "东湖街道", "莲塘街道",
                                          "东晓街道", "清水河街道"};
static const char *const synth_villages[] = {"湖贝社区", "螺岭社区", "新港社区", "水库社区",
                                             "文锦社区", "草埔社区", "仙湖社区", "鹏兴社区"};
static const char *const synth_surnames[] = {"王", "李", "张", "刘", "陈", "杨", "黄", "赵",
                                             "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
                                             "何", "林", "罗", "高", "郑", "梁", "谢", "宋"};
static const char *const synth_given[] = {"伟", "芳",   "娜", "敏", "静",   "丽",   "强",   "磊",
                                          "军", "洋",   "勇", "艳", "杰",   "娟",   "涛",   "明",
                                          "超", "秀英", "华", "平", "建国", "淑珍", "志强", "海燕"};

static const struct {
    const char *category, *prefix, *items;
} synth_provider_kinds[] = {
    {"rehabilitation", "康复中心", "R01-LIMB;R05-CP-CHILD;R10-COMMUNITY"},
    {"rehabilitation", "儿童康复院", "R02-AUTISM;R03-HEARING-CHILD;R04-INTELLECT-CHILD;R11-INFANT"},
    {"rehabilitation", "辅具服务站", "R12-HEARING-AID;R10-COMMUNITY"},
    {"rehabilitation", "眼科医院", "R09-CATARACT"},
    {"employment", "职业培训学校", "E01-VOCATIONAL;E04-MASSAGE;E07-VOC-REHAB"},
    {"employment", "就业服务中心", "E05-SHELTERED;E08-JOB-TRANSPORT;E01-VOCATIONAL"},
    {"education", "特殊教育学校",
     "D03-UPPER-SEC;D05-HOME-TEACHING;D06-SCHOOL-TRANSPORT;D08-SIGN-BRAILLE"},
    {"social-security", "居家养护中心", "S03-HOME-CARE;S04-DAY-CARE"},
    {"social-security", "托养中心", "S05-RESIDENTIAL;S04-DAY-CARE"},
    {"social-security", "公交集团", "S11-TRANSPORT"},
    {"social-security", "无障碍改造工程队", "S06-BARRIER-FREE"},
};
/* Every swipeable item of the 2026 catalogue has a kind of provider; the
 * items paid into the person's own account (cash, reimburse) have none. */
#define SYNTH_KINDS ((long)(sizeof(synth_provider_kinds) / sizeof(synth_provider_kinds[0])))

static void synth_national_id(char *out, int y, int m, int d, long seq)
{
    static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    char body[64];
    snprintf(body, sizeof(body), "44%04ld%04d%02d%02d%03ld", (seq / 1000) % 10000, y % 10000,
             m % 100, d % 100, seq % 1000);
    memcpy(out, body, 17);
    int sum = 0;
    for (int i = 0; i < 17; i++)
        sum += (out[i] - '0') * w[i];
    out[17] = "10X98765432"[sum % 11];
    out[18] = '\0';
}

static int synth_run(long persons, long providers, unsigned long long seed, const char *dir)
{
    char path[1024];
    synth_state = seed;
    snprintf(path, sizeof(path), "%s/persons.csv", dir);
    FILE *fp = fopen(path, "w");
    if (fp == NULL) {
        registry_fail("%s: %s", path, strerror(errno));
        return CLI_DEPENDENCY;
    }
    fputs("national_id,name,category,grade,care_level,birth_date,district,town,village,"
          "household,phone\n",
          fp);
    int32_t today = registry_today();
    int ty, tm, td;
    rules_civil(today, &ty, &tm, &td);
    for (long i = 0; i < persons; i++) {
        const char *cat = synth_categories[synth_pick(synth_category_w, 7)];
        int grade = 1 + synth_pick(synth_grade_w, 4);
        int age = synth_below(100) < 8 ? synth_below(18) : 18 + synth_below(78);
        /* a child under one was born in the last 365 days (some under 5
         * months: early intervention) */
        int32_t bday = (age == 0 ? today : rules_days(ty - age, 1, 1)) - synth_below(365);
        int by, bm, bd;
        rules_civil(bday, &by, &bm, &bd);
        int care = 0;
        bool mental = strcmp(cat, "intellectual") == 0 || strcmp(cat, "psychiatric") == 0 ||
                      strcmp(cat, "multiple") == 0;
        if (grade <= 2 || (grade == 3 && mental))
            care = 1 + synth_below(3);
        int h = synth_below(100);
        const char *hh = h < 10 ? "dibao" : h < 18 ? "near-poor" : "none";
        char id[19];
        /* the sequence makes ids unique within a day of birth */
        synth_national_id(id, by, bm, bd, i);
        fprintf(fp, "%s,%s%s,%s,%d,%d,%04d-%02d-%02d,罗湖区,%s,%s,%s,1%02d%08d\n", id,
                synth_surnames[synth_below(24)], synth_given[synth_below(24)], cat, grade, care, by,
                bm, bd, synth_towns[synth_below(10)], synth_villages[synth_below(8)], hh,
                30 + synth_below(60), synth_below(100000000));
    }
    if (fclose(fp) != 0) {
        registry_fail("%s: %s", path, strerror(errno));
        return CLI_DEPENDENCY;
    }
    snprintf(path, sizeof(path), "%s/providers.csv", dir);
    fp = fopen(path, "w");
    if (fp == NULL) {
        registry_fail("%s: %s", path, strerror(errno));
        return CLI_DEPENDENCY;
    }
    fputs("provider_id,name,district,category,items\n", fp);
    for (long i = 0; i < providers; i++) {
        int k = synth_below((int)SYNTH_KINDS);
        if (i < SYNTH_KINDS)
            k = (int)i; /* the first providers: one of each kind */
        fprintf(fp, "LH%04ld,罗湖区%s%s%s,罗湖区,%s,%s\n", i + 1, synth_towns[synth_below(10)],
                synth_provider_kinds[k].prefix,
                i % 3 == 0 ? "" : (i % 3 == 1 ? "（一部）" : "（二部）"),
                synth_provider_kinds[k].category, synth_provider_kinds[k].items);
    }
    if (fclose(fp) != 0) {
        registry_fail("%s: %s", path, strerror(errno));
        return CLI_DEPENDENCY;
    }
    printf("synth: %ld persons, %ld providers, seed %llu, in %s\n", persons, providers, seed, dir);
    return 0;
}

int synth_command(registry *r, int argc, char **argv)
{
    int persons, providers, seed;
    const char *out = args_opt(argc, argv, "out");
    return args_check(argc, argv, "persons,providers,seed,out") != 0 ||
                   args_int(args_opt(argc, argv, "persons"), "persons", 0, 10000000, &persons) ||
                   args_int(args_opt(argc, argv, "providers"), "providers", 0, 100000,
                            &providers) ||
                   args_int(args_opt(argc, argv, "seed"), "seed", 0, 2000000000, &seed) ||
                   args_need(out, "out")
               ? 1
               : synth_run(persons, providers, (unsigned long long)seed, out);
}
