#!/usr/bin/python3
"""Cross-implementation round trip of every onecard.v1 event.

protobuf-c writes a full sample of each event type (every field set); an
independent implementation (Debian's protoc generating Python, run by
python3-protobuf) must decode it with every field present, `protoc
--decode` must print it, and the Python re-encoding must decode in
protobuf-c to the very same bytes. An agency in another language reads our
bytes exactly as we wrote them.

usage: roundtrip.py SAMPLE_TOOL PROTO_DIR
"""
import glob
import importlib
import os
import subprocess
import sys
import tempfile


def fields_all_set(msg, path=""):
    """Returns the names of fields left at their default value."""
    missing = []
    for f in msg.DESCRIPTOR.fields:
        name = path + f.name
        value = getattr(msg, f.name)
        if f.label == f.LABEL_REPEATED:
            if len(value) != 2:
                missing.append(name)
            elif f.message_type is not None:
                for i, v in enumerate(value):
                    missing += fields_all_set(v, "%s[%d]." % (name, i))
        elif f.message_type is not None:
            if not msg.HasField(f.name):
                missing.append(name)
            else:
                missing += fields_all_set(value, name + ".")
        elif value == f.default_value:
            missing.append(name)
    return missing


def main():
    tool, proto_dir = sys.argv[1], os.path.abspath(sys.argv[2])
    protos = sorted(glob.glob(os.path.join(proto_dir, "*.proto")))
    passed = failed = 0
    with tempfile.TemporaryDirectory() as work:
        gen = os.path.join(work, "gen")
        os.mkdir(gen)
        subprocess.run(["protoc", "-I", proto_dir, "--python_out", gen] + protos, check=True)
        sys.path.insert(0, gen)
        modules = [importlib.import_module(os.path.basename(p)[:-6] + "_pb2") for p in protos]
        subprocess.run([tool, "write", work], check=True, stdout=subprocess.DEVNULL)
        samples = sorted(glob.glob(os.path.join(work, "onecard.v1.*.bin")))
        if len(samples) < 14:
            print("FAIL expected a sample of each of the 14 event types, got %d" % len(samples))
            failed += 1
        for path in samples:
            full = os.path.basename(path)[:-4]  # onecard.v1.SwipeAuthorized
            short = full.split(".")[-1]
            cls = None
            for m in modules:
                cls = getattr(m, short, None) or cls
            if cls is None:
                print("FAIL %s: no Python class" % full)
                failed += 1
                continue
            data = open(path, "rb").read()
            msg = cls()
            msg.ParseFromString(data)
            missing = fields_all_set(msg)
            text = subprocess.run(["protoc", "-I", proto_dir, "--decode=" + full] + protos,
                                  input=data, capture_output=True, check=True).stdout.decode()
            if missing or "event_id:" not in text:
                print("FAIL %s: fields not understood: %s" % (full, missing))
                failed += 1
                continue
            with open(os.path.join(work, full + ".py.bin"), "wb") as out:
                out.write(msg.SerializeToString())
            passed += 1
        check = subprocess.run([tool, "check", work], capture_output=True, text=True)
        sys.stdout.write(check.stdout)
        if check.returncode != 0:
            failed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
