#!/usr/bin/python3
"""Writes the reference records (data/*.jsonl) and the fixtures written by
Python's avro (python3-avro 1.11, Debian) into ../.

Run from this directory: /usr/bin/python3 gen_python.py
Needs python3-avro, python3-snappy and python3-zstandard (apt-get install).
The data is fixed by a seeded PRNG, so reruns give the same records.
"""

import json
import os
import random

import avro.datafile
import avro.io
import avro.schema

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.dirname(HERE)
SCHEMAS = os.path.join(HERE, "schemas")
DATA = os.path.join(HERE, "data")

MOVIES = [
    "the+shawshank+redemption+1994", "pulp+fiction+1994", "the+matrix+1999",
    "spirited+away+2001", "amelie+2001", "city+of+god+2002", "up+2009",
    "inception+2010", "parasite+2019", "dune+2021",
]


def clock(rng, i):
    return "2024-03-19T%02d:%02d:%02d" % (i // 3600 % 24, i // 60 % 60, i % 60)


def user(rng):
    return str(rng.randint(1, 99999))


def watch(rng, n, subtitles=False):
    out = []
    for i in range(n):
        r = {"time": clock(rng, i * 7), "userId": user(rng),
             "movieId": rng.choice(MOVIES), "minute": rng.randint(0, 180)}
        if subtitles:
            r["subtitles"] = rng.random() < 0.3
        out.append(r)
    return out


def rating(rng, n):
    return [{"time": clock(rng, i * 11), "userId": user(rng),
             "movieId": rng.choice(MOVIES), "rating": rng.randint(1, 5)}
            for i in range(n)]


def request(rng, n):
    out = []
    for i in range(n):
        status = rng.choice([200, 200, 200, 200, 500, 0])
        recs = None
        if status == 200:
            recs = ", ".join(rng.sample(MOVIES, 4))
        out.append({"time": clock(rng, i * 5), "userId": user(rng),
                    "server": "17645-team%d.isrl.ex:8082" % rng.randint(1, 30),
                    "status": status, "recommendations": recs,
                    "responseTime": rng.randint(5, 900)})
    return out


def session(rng, n):
    out = []
    for i in range(n):
        cdn = None
        if rng.random() < 0.6:
            cdn = {"host": "edge%d.cdn.ex" % rng.randint(1, 9),
                   "pop": rng.choice(["fra", "iad", "nrt", "gru"])}
        err = rng.choice([None, None, 404, "timeout"])
        out.append({
            "sessionId": "s-%05d" % i,
            "device": {
                "os": rng.choice(["android", "ios", "tvos", "web"]),
                "model": rng.choice([None, "pixel-8", "iphone-15", "shield"]),
                "screen": {"width": rng.choice([720, 1280, 1920, 3840]),
                           "height": rng.choice([480, 720, 1080, 2160])},
            },
            "bitrateKbps": rng.choice([None, rng.randint(300, 2 ** 40)]),
            "bufferRatio": rng.randint(0, 1000) / 1000.0,
            "quality": rng.choice(["SD", "HD", "UHD"]),
            "tags": rng.sample(["kids", "hdr", "atmos", "offline", "trial"], rng.randint(0, 3)),
            "attrs": {k: rng.randint(-5, 5) for k in rng.sample(["a", "b", "c", "d"], rng.randint(0, 3))},
            "drm": rng.random() < 0.5,
            "score": rng.randint(-40, 40) / 4.0,  # exact in a float
            "cdn": cdn,
            "errorCode": err,
        })
    return out


# name -> (schema file, records, records per block)
DATASETS = {
    "watch": ("MovieWatchEvent.avsc", lambda r: watch(r, 240), 50),
    "rating": ("MovieRatingEvent.avsc", lambda r: rating(r, 120), 40),
    "request": ("RecommendationRequest.avsc", lambda r: request(r, 160), 64),
    "watchv2": ("MovieWatchEventV2.avsc", lambda r: watch(r, 160, True), 50),
    "session": ("PlaybackSession.avsc", lambda r: session(r, 80), 30),
}

# name -> codecs Python writes
FIXTURES = {
    "watch": ["null", "deflate", "snappy", "zstandard"],
    "rating": ["null"],
    "request": ["null", "deflate"],
    "watchv2": ["null", "zstandard"],
    "session": ["null", "deflate", "snappy", "zstandard"],
}

# CRC-64-AVRO, as the specification gives it.
EMPTY = 0xC15D213AA4D7A795
TABLE = []
for i in range(256):
    fp = i
    for _ in range(8):
        fp = (fp >> 1) ^ (EMPTY & -(fp & 1))
    TABLE.append(fp)


def rabin(b):
    fp = EMPTY
    for c in b:
        fp = (fp >> 8) ^ TABLE[(fp ^ c) & 0xFF]
    return fp


def main():
    os.makedirs(DATA, exist_ok=True)
    fingerprints = {}
    for seed, (name, (schema_file, make, per_block)) in enumerate(sorted(DATASETS.items())):
        with open(os.path.join(SCHEMAS, schema_file)) as f:
            schema_json = f.read()
        schema = avro.schema.parse(schema_json)
        canonical = schema.canonical_form
        fingerprints[name] = {"canonical": canonical, "fingerprint": "%016x" % rabin(canonical.encode())}
        records = make(random.Random(1000 + seed))
        with open(os.path.join(DATA, name + ".jsonl"), "w") as f:
            for r in records:
                f.write(json.dumps(r, sort_keys=True) + "\n")
        for codec in FIXTURES[name]:
            path = os.path.join(OUT, "python-%s-%s.avro" % (name, codec))
            with open(path, "wb") as f:
                w = avro.datafile.DataFileWriter(f, avro.io.DatumWriter(), schema, codec=codec)
                for i, r in enumerate(records):
                    w.append(r)
                    if (i + 1) % per_block == 0:
                        w.sync()
                w.close()
    with open(os.path.join(DATA, "fingerprints.json"), "w") as f:
        json.dump(fingerprints, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
