/*
 * Unit tests of the Kafka security settings (kafka_security_use and
 * kafka_security_apply in libs/common/kafka.c): which combinations are
 * refused, what every handle then gets, and that no error names the
 * password.
 */
#include "check.h"
#include "common/kafka.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *conf_get(rd_kafka_conf_t *conf, const char *name, char *buf, size_t len)
{
    size_t n = len;
    if (rd_kafka_conf_get(conf, name, buf, &n) != RD_KAFKA_CONF_OK)
        return "";
    return buf;
}

int main(void)
{
    char pwfile[] = "/tmp/onecard-test-kafka-pw-XXXXXX";
    int fd = mkstemp(pwfile);
    CHECK(fd >= 0, "mkstemp");
    CHECK(write(fd, "s3cret-from-file\n", 17) == 17, "write");
    close(fd);

    static const struct {
        const char *protocol, *user, *password, *file, *ca;
        int rc;              /* of kafka_security_use */
        const char *err_has; /* in err when refused */
        const char *want_protocol, *want_password, *want_ca;
    } cases[] = {
        {"plaintext", "", "", "", "", 0, NULL, "plaintext", "", ""},
        {"sasl_plaintext", "ledger", "pw-inline", "", "", 0, NULL, "sasl_plaintext", "pw-inline",
         ""},
        {"sasl_plaintext", "ledger", "ignored", "@file", "", 0, NULL, "sasl_plaintext",
         "s3cret-from-file", ""},
        {"sasl_ssl", "finance", "", "@file", "/etc/ssl/ca.pem", 0, NULL, "sasl_ssl",
         "s3cret-from-file", "/etc/ssl/ca.pem"},
        {"SSL", "x", "y", "", "", -1, "must be plaintext, sasl_plaintext or sasl_ssl", NULL, NULL,
         NULL},
        {"sasl_plaintext", "", "pw", "", "", -1, "ONECARD_KAFKA_SASL_USER", NULL, NULL, NULL},
        {"sasl_ssl", "finance", "", "", "", -1, "ONECARD_KAFKA_SASL_PASSWORD_FILE", NULL, NULL,
         NULL},
        {"sasl_ssl", "finance", "", "/nonexistent/pw", "", -1, "cannot read it", NULL, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        kafka_security s = {(char *)cases[i].protocol, (char *)cases[i].user,
                            (char *)cases[i].password,
                            strcmp(cases[i].file, "@file") == 0 ? pwfile : (char *)cases[i].file,
                            (char *)cases[i].ca};
        char err[256] = "";
        int rc = kafka_security_use(&s, err, sizeof(err));
        CHECK(rc == cases[i].rc, "case %zu: rc %d (%s)", i, rc, err);
        if (rc < 0) {
            CHECK(strstr(err, cases[i].err_has) != NULL, "case %zu: err \"%s\"", i, err);
            CHECK(cases[i].password[0] == '\0' || strstr(err, cases[i].password) == NULL,
                  "case %zu: the password in the error", i);
            continue;
        }
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        CHECK(kafka_security_apply(conf, err, sizeof(err)) == 0, "case %zu: apply: %s", i, err);
        char buf[256];
        CHECK(strcmp(conf_get(conf, "security.protocol", buf, sizeof(buf)),
                     cases[i].want_protocol) == 0,
              "case %zu: security.protocol %s", i, buf);
        if (cases[i].want_password[0]) {
            CHECK(strcmp(conf_get(conf, "sasl.mechanisms", buf, sizeof(buf)), "SCRAM-SHA-512") == 0,
                  "case %zu: mechanism %s", i, buf);
            CHECK(strcmp(conf_get(conf, "sasl.username", buf, sizeof(buf)), cases[i].user) == 0,
                  "case %zu: user %s", i, buf);
            CHECK(strcmp(conf_get(conf, "sasl.password", buf, sizeof(buf)),
                         cases[i].want_password) == 0,
                  "case %zu: password", i);
        }
        if (cases[i].want_ca[0])
            CHECK(strcmp(conf_get(conf, "ssl.ca.location", buf, sizeof(buf)), cases[i].want_ca) ==
                      0,
                  "case %zu: ca %s", i, buf);
        rd_kafka_conf_destroy(conf);
    }
    unlink(pwfile);
    return CHECK_DONE();
}
