#!/usr/bin/python3
"""consumer: an example agency consumer of onecard's Kafka views.

What docs/agencies.md asks of every reader, in one small program: it
authenticates with SASL/SCRAM-SHA-512 over TLS (the stack's CA), reads its
view (default onecard.agency.swipes.v1) in a consumer group under its own
prefix, decodes each value as the protobuf message its ce_type header names
(Python generated from proto/ with protoc at start), drops duplicates by
event_id (the ce_id header), and keeps what it read in a SQLite file. The
offsets are committed to Kafka only after the SQLite commit, so a restart
resumes after the last committed batch; whatever a crash between the two
re-delivers is dropped by event_id, so no event is processed twice.

    tools/agency/consumer.py --brokers 127.0.0.1:19094 --user finance \\
        --password-file .stack/kafka/secrets/finance.password \\
        --ca .stack/kafka/tls/ca.pem --group agency-finance-example --db finance.sqlite

Needs Debian's python3-confluent-kafka and python3-protobuf, and protoc
(protobuf-compiler). Prints one JSON line at the end: how many messages it
read, how many were new, how many duplicates it dropped, how many it
skipped (a ce_type it does not know) and how many did not decode.
"""
import argparse
import importlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

from confluent_kafka import Consumer, KafkaError, KafkaException
from google.protobuf.message import DecodeError

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO_DIR = os.path.join(HERE, "..", "..", "proto")


def load_messages(proto_dir):
    """Generates Python from every proto/*.proto and returns
    {ce_type: message class}."""
    out = tempfile.mkdtemp(prefix="onecard-agency-pb-")
    protos = sorted(f for f in os.listdir(proto_dir) if f.endswith(".proto"))
    subprocess.run(["protoc", "-I", proto_dir, "--python_out=" + out] + protos, check=True)
    sys.path.insert(0, out)
    types = {}
    for p in protos:
        mod = importlib.import_module(p[:-len(".proto")] + "_pb2")
        for name, desc in mod.DESCRIPTOR.message_types_by_name.items():
            types[desc.full_name] = getattr(mod, name)
    return types


def open_db(path):
    db = sqlite3.connect(path)
    db.execute("""CREATE TABLE IF NOT EXISTS events (
                    event_id TEXT PRIMARY KEY,  -- the de-duplication key
                    ce_type TEXT NOT NULL,
                    topic TEXT NOT NULL, partition INTEGER NOT NULL, "offset" INTEGER NOT NULL,
                    body TEXT NOT NULL)        -- the decoded message as JSON""")
    db.commit()
    return db


def header(msg, name):
    for k, v in msg.headers() or []:
        if k == name:
            return v.decode("utf-8", "replace") if v is not None else ""
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--brokers", required=True, help="the agency (SASL_SSL) listener")
    ap.add_argument("--user", required=True, help="your agency's principal")
    ap.add_argument("--password-file", required=True)
    ap.add_argument("--ca", required=True, help="PEM CA that signed the broker's certificate")
    ap.add_argument("--group", required=True, help="a group under agency-<principal>")
    ap.add_argument("--topic", action="append", help="a view you are granted (repeatable)")
    ap.add_argument("--db", required=True, help="SQLite file of what was read")
    ap.add_argument("--idle-exit", type=float, default=0,
                    help="exit after this many seconds without a message (0: run until signalled)")
    ap.add_argument("--max", type=int, default=0,
                    help="stop after this many messages (0: no limit); a test's crash point")
    ap.add_argument("--proto-dir", default=PROTO_DIR)
    a = ap.parse_args()
    topics = a.topic or ["onecard.agency.swipes.v1"]

    with open(a.password_file) as f:
        password = f.readline().strip()
    types = load_messages(a.proto_dir)
    db = open_db(a.db)
    consumer = Consumer({
        "bootstrap.servers": a.brokers,
        "security.protocol": "SASL_SSL",
        "sasl.mechanisms": "SCRAM-SHA-512",
        "sasl.username": a.user,
        "sasl.password": password,
        "ssl.ca.location": a.ca,
        "group.id": a.group,
        "enable.auto.commit": False,     # committed after the SQLite commit, below
        "auto.offset.reset": "earliest",
        "enable.partition.eof": False,
    })
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    consumer.subscribe(topics)
    read = new = dup = skipped = bad = 0
    last = time.time()
    try:
        while not stop:
            want = 100 if not a.max else min(100, a.max - read)
            if want <= 0:
                break
            batch = consumer.consume(num_messages=want, timeout=1.0)
            if not batch:
                if a.idle_exit and time.time() - last > a.idle_exit:
                    break
                continue
            last = time.time()
            good = []
            for m in batch:
                if m.error():
                    if m.error().code() == KafkaError._PARTITION_EOF:
                        continue
                    raise KafkaException(m.error())
                good.append(m)
            with db:  # one transaction per batch
                for m in good:
                    read += 1
                    ce_type = header(m, "ce_type")
                    cls = types.get(ce_type)
                    if cls is None:  # a type this reader does not know: skip it
                        skipped += 1
                        continue
                    ev = cls()
                    try:
                        ev.ParseFromString(m.value() or b"")
                    except DecodeError as e:  # count it, keep going (onecard.dlq.v1 has
                        bad += 1              # the producers' own; this is the reader's)
                        print("undecodable %s at %s/%d/%d: %s" % (ce_type, m.topic(),
                              m.partition(), m.offset(), e), file=sys.stderr)
                        continue
                    event_id = header(m, "ce_id") or ev.event_id
                    fields = {f.name: v for f, v in ev.ListFields()}
                    cur = db.execute("INSERT OR IGNORE INTO events VALUES (?, ?, ?, ?, ?, ?)",
                                     (event_id, ce_type, m.topic(), m.partition(), m.offset(),
                                      json.dumps(fields, sort_keys=True)))
                    if cur.rowcount == 1:
                        new += 1
                    else:
                        dup += 1
            if good:
                consumer.commit(asynchronous=False)  # only now: what is in SQLite
    finally:
        consumer.close()
        db.close()
    print(json.dumps({"read": read, "new": new, "duplicates": dup, "skipped": skipped,
                      "undecodable": bad}))


if __name__ == "__main__":
    main()
