#!/bin/sh
# Re-encodes Python's null-codec fixtures with Avro C (Debian's avro-bin:
# avromod) into ../avroc-*.avro. Run from this directory after
# gen_python.py: sh gen_avroc.sh
set -eu
cd ..
avromod --codec=deflate --block-size=2048 python-watch-null.avro avroc-watch-deflate.avro
avromod --codec=snappy --block-size=2048 python-watch-null.avro avroc-watch-snappy.avro
avromod --codec=null --block-size=1000 python-watchv2-null.avro avroc-watchv2-null.avro
avromod --codec=snappy --block-size=4096 python-request-null.avro avroc-request-snappy.avro
avromod --codec=deflate --block-size=1500 python-session-null.avro avroc-session-deflate.avro
avromod --codec=snappy --block-size=3000 python-session-null.avro avroc-session-snappy.avro
# A codec this package does not read: the reader must refuse it at the header.
avromod --codec=lzma --block-size=4096 python-rating-null.avro avroc-rating-lzma.avro
