// Writes the fixtures written by Node's avsc into ../avsc-*.avro, from the
// records gen_python.py wrote to data/*.jsonl. Run from this directory:
//   npm install --prefix /tmp/avscgen avsc@5.7.9 snappyjs@0.7.0
//   NODE_PATH=/tmp/avscgen/node_modules node gen_avsc.js
'use strict';

const avro = require('avsc');
const snappy = require('snappyjs');
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');

const here = __dirname;
const out = path.dirname(here);

// CRC-32 (IEEE), for Avro's snappy framing.
const crcTable = new Int32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});
function crc32(buf) {
  let c = -1;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

const codecs = {
  null: (buf, cb) => cb(null, buf),
  deflate: zlib.deflateRaw,
  snappy: (buf, cb) => {
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc32(buf));
    cb(null, Buffer.concat([Buffer.from(snappy.compress(buf)), sum]));
  },
};

const jobs = [
  ['watch', 'MovieWatchEvent.avsc', ['null', 'deflate', 'snappy'], 1800],
  ['rating', 'MovieRatingEvent.avsc', ['deflate'], 1024],
  ['request', 'RecommendationRequest.avsc', ['null'], 4096],
  ['watchv2', 'MovieWatchEventV2.avsc', ['deflate'], 2500],
  ['session', 'PlaybackSession.avsc', ['null', 'deflate'], 2048],
];

for (const [name, schemaFile, codecNames, blockSize] of jobs) {
  const schema = JSON.parse(fs.readFileSync(path.join(here, 'schemas', schemaFile), 'utf8'));
  const type = avro.Type.forSchema(schema, {wrapUnions: false});
  const records = fs.readFileSync(path.join(here, 'data', name + '.jsonl'), 'utf8')
    .split('\n').filter((l) => l).map((l) => JSON.parse(l));
  for (const codec of codecNames) {
    const file = path.join(out, `avsc-${name}-${codec}.avro`);
    const enc = new avro.streams.BlockEncoder(type, {codec, codecs, blockSize});
    enc.pipe(fs.createWriteStream(file));
    for (const r of records) enc.write(r);
    enc.end();
  }
}
