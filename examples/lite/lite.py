#!/usr/bin/env python3
"""lite.py: a NodeDB Lite for syncsim, as an external node.

Python 3.8+, standard library only. syncsim starts one process per Lite and
talks to it over stdin/stdout, one JSON object per line, in lockstep
(docs/external-nodes.md). Frames travel as hex; this file encodes and
decodes them itself (zerompk MessagePack, as PROTOCOL.md describes), with
its own CRC32C for DeltaPush checksums.

What it does, like the reference Lite (nodes/lite/lite.go):
  * dials Origin, handshakes with its last LSN per collection, subscribes
    shape:<collection> for each collection;
  * pushes local writes as DeltaPush (ids 1, 2, 3, ... kept across
    restarts), at most 64 in flight, re-sent after 1 s without an ack and
    after a reconnect; answers Origin's ResyncRequest by pushing again from
    the id it names;
  * applies ShapeDeltas strictly in LSN order through a bounded queue
    (1024, drained at 5000 deltas/s): a delta above a gap waits in a reorder
    buffer while a ResyncRequest for the gap is retried with backoff;
  * asks Origin to slow down (Throttle 0x52) when its queue passes 768 and
    releases at 256, re-announcing every 2 s while throttled;
  * reads Origin's VectorClockSync: a lost last delta, a digest that differs
    at equal LSN, an applied mark below an ack it believed;
  * keeps its durable state in state_dir as checksummed journals and finds
    a torn byte there at restart.

Environment:
  LITE_DEFECT=skip-gap   a delta past a gap is applied at once (the gap is
                         not detected): in-order-apply fails
  LITE_DEFECT=no-retry   a push is sent once and never again (not after the
                         ack timeout, a reconnect, a restart, nor when Origin
                         asks): convergence fails when frames are lost
  LITE_DRAIN_RATE=N      deltas applied per second (default 5000)
  LITE_QUEUE=N           incoming queue capacity (default 1024; the throttle
                         engages at 3/4 of it and releases at 1/4)
"""

import json
import os
import sys
import zlib
from collections import deque

DEFECT = os.environ.get("LITE_DEFECT", "")
if DEFECT not in ("", "skip-gap", "no-retry"):
    sys.stderr.write("lite.py: LITE_DEFECT=%s: want skip-gap or no-retry\n" % DEFECT)
    sys.exit(2)
SKIP_GAP = DEFECT == "skip-gap"
NO_RETRY = DEFECT == "no-retry"

MS = 1000000                 # virtual time is in nanoseconds
TICK = 50 * MS               # housekeeping: drain, retries, pings
ACK_TIMEOUT = 1000 * MS      # push an unacked mutation again after this
MAX_IN_FLIGHT = 64           # unacked pushes outstanding
RESYNC_BASE = 250 * MS       # first ResyncRequest retry, doubling ...
RESYNC_MAX = 4000 * MS       # ... up to this
BACKOFF_BASE = 100 * MS      # first reconnect delay, doubling ...
BACKOFF_MAX = 5000 * MS      # ... up to this, plus up to half again of jitter
PING_EVERY = 1000 * MS
DEAD_AFTER = 4000 * MS       # a connection silent this long is dead
REANNOUNCE = 2000 * MS       # handshake timeout; re-subscribe; throttle renewal
QUEUE_CAP = int(os.environ.get("LITE_QUEUE") or 1024)  # incoming deltas held at most
HIGH_WATER, LOW_WATER = QUEUE_CAP * 3 // 4, QUEUE_CAP // 4  # throttle on, off
DRAIN_RATE = float(os.environ.get("LITE_DRAIN_RATE") or 5000)
REORDER_CAP = 4096           # deltas held above a gap, per shape
RECENT_MAX = 65536           # acked mutations kept for Origin's resend requests
MARK_SPACING = 200 * MS      # two applied marks this far apart are two clocks
COMPACT_AFTER = 4096         # journal records before a journal is rewritten
MAX_BODY = 16 << 20          # the decoder's limit on a frame's length field
M64 = (1 << 64) - 1

# ------------------------------------------------------------------ CRC32C
# Castagnoli, reflected polynomial 0x82F63B78, table-driven.

CRC_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    CRC_TABLE.append(_c)


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = CRC_TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283

# ------------------------------------------------------------------ digest
# docs/digest.md: per document FNV-1a 64 over id, 0xff, value, a finalizer;
# the collection's digest is the sum mod 2^64.


def doc_hash(doc, value):
    h = 0xCBF29CE484222325
    for c in doc.encode():
        h = ((h ^ c) * 0x100000001B3) & M64
    h = ((h ^ 0xFF) * 0x100000001B3) & M64
    for c in value:
        h = ((h ^ c) * 0x100000001B3) & M64
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & M64
    return h ^ (h >> 33)


assert (doc_hash("d1", b"hello") + doc_hash("d2", b"world")) & M64 == 0xF3902DF350DC1869

# ------------------------------------------------------------------ random
# splitmix64 seeded from the node's own 128-bit seed: the only randomness.


class Rand:
    def __init__(self, seed_hex):
        s = int(seed_hex, 16)
        self.s = (s >> 64) ^ (s & M64)

    def below(self, n):
        self.s = (self.s + 0x9E3779B97F4A7C15) & M64
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        return (z ^ (z >> 31)) % n

# ------------------------------------------------------------------ MessagePack, writing
# zerompk's rules: a struct is an array of its fields; unsigned integers in
# the smallest unsigned form; i64 in signed forms only; String as str;
# bytes as bin; Option as nil or the bare value.


def w_uint(b, v):
    if v < 0x80:
        b.append(v)
    elif v < 0x100:
        b += b"\xcc" + v.to_bytes(1, "big")
    elif v < 0x10000:
        b += b"\xcd" + v.to_bytes(2, "big")
    elif v < 0x100000000:
        b += b"\xce" + v.to_bytes(4, "big")
    else:
        b += b"\xcf" + v.to_bytes(8, "big")


def w_int(b, v):
    if -32 <= v < 0x80:
        b.append(v & 0xFF)
    elif -0x80 <= v < 0x80:
        b += b"\xd0" + v.to_bytes(1, "big", signed=True)
    elif -0x8000 <= v < 0x8000:
        b += b"\xd1" + v.to_bytes(2, "big", signed=True)
    elif -0x80000000 <= v < 0x80000000:
        b += b"\xd2" + v.to_bytes(4, "big", signed=True)
    else:
        b += b"\xd3" + v.to_bytes(8, "big", signed=True)


def w_len(b, n, fix, fixmax, c8, c16, c32):
    if n <= fixmax:
        b.append(fix | n)
    elif c8 and n < 0x100:
        b += bytes((c8, n))
    elif n < 0x10000:
        b += bytes((c16,)) + n.to_bytes(2, "big")
    else:
        b += bytes((c32,)) + n.to_bytes(4, "big")


def w_str(b, s):
    s = s.encode()
    w_len(b, len(s), 0xA0, 31, 0xD9, 0xDA, 0xDB)
    b += s


def w_bin(b, data):
    w_len(b, len(data), 0, -1, 0xC4, 0xC5, 0xC6)
    b += data


def w_array(b, n):
    w_len(b, n, 0x90, 15, 0, 0xDC, 0xDD)


def w_map(b, n):
    w_len(b, n, 0x80, 15, 0, 0xDE, 0xDF)


def w_bool(b, v):
    b.append(0xC3 if v else 0xC2)

# ------------------------------------------------------------------ MessagePack, reading


class Bad(Exception):
    """A frame that does not decode."""


class Reader:
    """Reads a body strictly: each value must have the form zerompk accepts
    for its field, and the body must end with the message."""

    def __init__(self, data, bare_units):
        self.d, self.p, self.bare_units = data, 0, bare_units

    def _peek(self, field):
        if self.p >= len(self.d):
            raise Bad("%s: body ends before this field" % field)
        return self.d[self.p]

    def _take(self, n, field):
        if n > len(self.d) - self.p:
            raise Bad("%s: needs %d more bytes but only %d remain" % (field, n, len(self.d) - self.p))
        v = self.d[self.p:self.p + n]
        self.p += n
        return v

    def _num(self, n, field):
        return int.from_bytes(self._take(n, field), "big")

    def uint(self, field, limit=M64):
        c = self._peek(field)
        self.p += 1
        if c < 0x80:
            v = c
        elif 0xCC <= c <= 0xCF:
            v = self._num(1 << (c - 0xCC), field)
        else:
            raise Bad("%s: want an unsigned integer, found 0x%02x" % (field, c))
        if v > limit:
            raise Bad("%s: %d does not fit (max %d)" % (field, v, limit))
        return v

    def int(self, field):
        c = self._peek(field)
        self.p += 1
        if c < 0x80 or c >= 0xE0:
            return c - 0x100 if c >= 0xE0 else c
        if 0xD0 <= c <= 0xD3:
            return int.from_bytes(self._take(1 << (c - 0xD0), field), "big", signed=True)
        raise Bad("%s: want a signed integer, found 0x%02x" % (field, c))

    def bool(self, field):
        c = self._peek(field)
        if c not in (0xC2, 0xC3):
            raise Bad("%s: want a bool, found 0x%02x" % (field, c))
        self.p += 1
        return c == 0xC3

    def _sized(self, field, fix_lo, fix_hi, c8, what):
        c = self._peek(field)
        self.p += 1
        if fix_lo <= c <= fix_hi:
            n = c & 0x1F
        elif c8 <= c <= c8 + 2:
            n = self._num(1 << (c - c8), field)
        else:
            raise Bad("%s: want %s, found 0x%02x" % (field, what, c))
        return self._take(n, field)

    def str(self, field):
        try:
            return self._sized(field, 0xA0, 0xBF, 0xD9, "a string").decode()
        except UnicodeDecodeError:
            raise Bad("%s: string is not valid UTF-8" % field)

    def bin(self, field):
        return bytes(self._sized(field, 1, 0, 0xC4, "bin"))  # bin has no fix form

    def _container(self, field, fix, c16, per, what):
        c = self._peek(field)
        self.p += 1
        if fix <= c <= fix + 15:
            n = c & 0x0F
        elif c in (c16, c16 + 1):
            n = self._num(2 if c == c16 else 4, field)
        else:
            raise Bad("%s: want %s, found 0x%02x" % (field, what, c))
        if n * per > len(self.d) - self.p:
            raise Bad("%s: %d elements cannot fit in the %d bytes left" % (field, n, len(self.d) - self.p))
        return n

    def array(self, field):
        return self._container(field, 0x90, 0xDC, 1, "an array")

    def map(self, field):
        return self._container(field, 0x80, 0xDE, 2, "a map")

    def struct(self, field, n):
        got = self.array(field)
        if got != n:
            raise Bad("%s: want an array of %d fields, found %d elements" % (field, n, got))

    def nil(self):
        """Consumes a nil if one is next (how an Option reads)."""
        if self.p < len(self.d) and self.d[self.p] == 0xC0:
            self.p += 1
            return True
        return False

    def variant(self, field):
        """An enum: [name, [fields]] or, for a unit variant, [name, nil]
        (zerompk 0.4) or the bare name (0.6). Returns (name, has_fields)."""
        c = self._peek(field)
        if self.bare_units and (0xA0 <= c <= 0xBF or c in (0xD9, 0xDA, 0xDB)):
            return self.str(field), False
        self.struct(field, 2)
        name = self.str(field + " variant name")
        if self.nil():
            if self.bare_units:
                raise Bad("%s: variant %s written as [name, nil]" % (field, name))
            return name, False
        return name, True

    def str_list(self, field):
        return [self.str(field) for _ in range(self.array(field))]

    def str_u64_map(self, field):
        m = {}
        for _ in range(self.map(field)):
            k = self.str(field + " key")
            m[k] = self.uint(field + " value")
        return m

    def skip(self, field):
        """Skips one complete value of any shape (a body this Lite does not read)."""
        todo = [1]
        while todo:
            if todo[-1] == 0:
                todo.pop()
                continue
            todo[-1] -= 1
            c = self._peek(field)
            self.p += 1
            n = kids = 0
            if c <= 0x7F or c >= 0xE0 or c in (0xC0, 0xC2, 0xC3):
                pass
            elif 0xA0 <= c <= 0xBF:
                n = c & 0x1F
            elif 0x90 <= c <= 0x9F:
                kids = c & 0x0F
            elif 0x80 <= c <= 0x8F:
                kids = 2 * (c & 0x0F)
            elif c in (0xCC, 0xD0):
                n = 1
            elif c in (0xCD, 0xD1):
                n = 2
            elif c in (0xCE, 0xD2, 0xCA):
                n = 4
            elif c in (0xCF, 0xD3, 0xCB):
                n = 8
            elif 0xD4 <= c <= 0xD8:          # fixext 1, 2, 4, 8, 16: type byte + data
                n = 1 + (1 << (c - 0xD4))
            elif c in (0xC4, 0xD9, 0xC7):    # bin8, str8, ext8
                n = self._num(1, field) + (c == 0xC7)
            elif c in (0xC5, 0xDA, 0xC8):
                n = self._num(2, field) + (c == 0xC8)
            elif c in (0xC6, 0xDB, 0xC9):
                n = self._num(4, field) + (c == 0xC9)
            elif c in (0xDC, 0xDD):
                kids = self._num(2 if c == 0xDC else 4, field)
            elif c in (0xDE, 0xDF):
                kids = 2 * self._num(2 if c == 0xDE else 4, field)
            else:
                raise Bad("%s: invalid MessagePack code 0x%02x" % (field, c))
            self._take(n, field)
            if kids:
                if kids > len(self.d) - self.p:
                    raise Bad("%s: container declares %d elements but only %d bytes remain" % (field, kids, len(self.d) - self.p))
                if len(todo) > 64:
                    raise Bad("%s: nesting deeper than 64" % field)
                todo.append(kids)

# ------------------------------------------------------------------ frames
# [type: 1 byte][body length: u32 little-endian][MessagePack body]

HANDSHAKE, HANDSHAKE_ACK = 0x01, 0x02
DELTA_PUSH, DELTA_ACK, DELTA_REJECT = 0x10, 0x11, 0x12
SUBSCRIBE, SNAPSHOT, SHAPE_DELTA = 0x20, 0x21, 0x22
CLOCK, RESYNC, THROTTLE, PING = 0x30, 0x50, 0x52, 0xFF
KNOWN_TYPES = frozenset([0x01, 0x02, 0x10, 0x11, 0x12, 0x14, 0x20, 0x21, 0x22, 0x23, 0x30, 0x40, 0x41,
                         0x50, 0x52, 0x60, 0x61, 0x70, 0x80, 0x81, 0x82, 0xFF] + list(range(0x90, 0x98)))


def frame(t, body):
    return bytes((t,)) + len(body).to_bytes(4, "little") + body


def enc_handshake(clock, lite_id):
    b = bytearray()
    w_array(b, 7)
    w_str(b, "sim")                      # jwt_token
    w_map(b, len(clock))                 # vector_clock: collection -> {"lsn": n}
    for coll in sorted(clock):
        w_str(b, coll)
        w_map(b, 1)
        w_str(b, "lsn")
        w_uint(b, clock[coll])
    w_array(b, len(clock))               # subscribed_shapes
    for coll in clock:
        w_str(b, "shape:" + coll)
    w_str(b, "lite.py")                  # client_version
    w_str(b, lite_id)
    w_uint(b, 1)                         # epoch
    w_uint(b, 1)                         # wire_version
    return frame(HANDSHAKE, bytes(b))


def enc_subscribe(coll):
    b = bytearray()
    w_array(b, 1)
    w_array(b, 5)                        # ShapeDefinition
    w_str(b, "shape:" + coll)            # shape_id
    w_uint(b, 1)                         # tenant_id
    w_array(b, 2)                        # shape_type: Document { collection }
    w_str(b, "Document")
    w_array(b, 1)
    w_str(b, coll)
    w_str(b, "")                         # description
    w_array(b, 0)                        # field_filter
    return frame(SUBSCRIBE, bytes(b))


def enc_push(m, peer_id, device_ms):
    b = bytearray()
    w_array(b, 7)
    w_str(b, m.coll)
    w_str(b, m.doc)
    w_bin(b, m.delta)
    w_uint(b, peer_id)
    w_uint(b, m.id)
    w_uint(b, m.crc)                     # checksum: CRC32C of delta
    w_int(b, device_ms)                  # device_valid_time_ms: Some(i64)
    return frame(DELTA_PUSH, bytes(b))


def enc_resync(r, bare_units):
    b = bytearray()
    w_array(b, 3)
    if r.gap:                            # reason: SequenceGap { expected, received }
        w_array(b, 2)
        w_str(b, "SequenceGap")
        w_array(b, 2)
        w_uint(b, r.expected)
        w_uint(b, r.received)
    elif bare_units:                     # CorruptedState, zerompk 0.6+
        w_str(b, "CorruptedState")
    else:                                # CorruptedState, zerompk 0.4: [name, nil]
        w_array(b, 2)
        w_str(b, "CorruptedState")
        b.append(0xC0)
    w_uint(b, r.frm)                     # from_mutation_id (an LSN here)
    w_str(b, r.coll)
    return frame(RESYNC, bytes(b))


def enc_throttle(on, depth, rate):
    b = bytearray()
    w_array(b, 3)
    w_bool(b, on)
    w_uint(b, depth)
    w_uint(b, rate)
    return frame(THROTTLE, bytes(b))


def enc_ping(ms, pong):
    b = bytearray()
    w_array(b, 2)
    w_uint(b, ms)
    w_bool(b, pong)
    return frame(PING, bytes(b))


def decode(raw, bare_units):
    """Decodes exactly one frame: (type, fields), fields None for a type
    this Lite ignores. Raises Bad when the frame does not decode."""
    if len(raw) < 5:
        raise Bad("short header: have %d bytes, a header is 5" % len(raw))
    t = raw[0]
    if t not in KNOWN_TYPES:
        raise Bad("type byte 0x%02x is not a NodeDB sync message" % t)
    n = int.from_bytes(raw[1:5], "little")
    if n > MAX_BODY:
        raise Bad("length field says %d bytes, the limit is %d" % (n, MAX_BODY))
    if len(raw) - 5 < n:
        raise Bad("length field says %d body bytes, %d present" % (n, len(raw) - 5))
    if len(raw) - 5 > n:
        raise Bad("%d bytes after the frame" % (len(raw) - 5 - n))
    r = Reader(raw[5:], bare_units)
    v = None
    if t == SHAPE_DELTA:
        r.struct("ShapeDelta", 6)
        v = (r.str("shape_id"), r.str("collection"), r.str("document_id"), r.str("operation"),
             r.bin("delta"), r.uint("lsn"))
    elif t == DELTA_ACK:
        r.struct("DeltaAck", 3)
        v = (r.uint("mutation_id"), r.uint("lsn"))
        if not r.nil():
            r.int("clock_skew_warning_ms")
    elif t == CLOCK:
        r.struct("VectorClockSync", 2)
        v = r.str_u64_map("clocks")
        r.uint("sender_id")
    elif t == SNAPSHOT:
        r.struct("ShapeSnapshot", 4)
        v = (r.str("shape_id"), r.bin("data"), r.uint("snapshot_lsn"), r.uint("doc_count"))
    elif t == HANDSHAKE_ACK:
        r.struct("HandshakeAck", 6)
        v = r.bool("success")
        r.str("session_id")
        r.str_u64_map("server_clock")
        if not r.nil():
            r.str("error")
        r.bool("fork_detected")
        r.uint("server_wire_version", 0xFFFF)
    elif t == DELTA_REJECT:
        r.struct("DeltaReject", 3)
        v = r.uint("mutation_id")
        r.str("reason")
        if not r.nil():
            r.skip("compensation")
    elif t == RESYNC:
        r.struct("ResyncRequest", 3)
        name, fields = r.variant("reason")
        if name in ("SequenceGap", "ChecksumMismatch") and fields:
            k = 2 if name == "SequenceGap" else 1
            r.struct("reason." + name, k)
            for _ in range(k):
                r.uint("reason." + name + " field")
        elif name in ("SequenceGap", "ChecksumMismatch"):
            raise Bad("reason: variant %s needs its fields, found nil" % name)
        elif name != "CorruptedState" or fields:
            raise Bad("reason: unknown variant %r" % name)
        v = (r.uint("from_mutation_id"), r.str("collection"))
    elif t == PING:
        r.struct("PingPong", 2)
        v = (r.uint("timestamp_ms"), r.bool("is_pong"))
    elif t == HANDSHAKE:                 # Lite -> Origin messages: decoded, then ignored
        r.struct("Handshake", 7)
        r.str("jwt_token")
        for _ in range(r.map("vector_clock")):
            r.str("vector_clock key")
            r.str_u64_map("vector_clock value")
        r.str_list("subscribed_shapes")
        r.str("client_version")
        r.str("lite_id")
        r.uint("epoch")
        r.uint("wire_version", 0xFFFF)
    elif t == DELTA_PUSH:
        r.struct("DeltaPush", 7)
        r.str("collection")
        r.str("document_id")
        r.bin("delta")
        r.uint("peer_id")
        r.uint("mutation_id")
        r.uint("checksum", 0xFFFFFFFF)
        if not r.nil():
            r.int("device_valid_time_ms")
    elif t == SUBSCRIBE:
        r.struct("ShapeSubscribe", 1)
        r.struct("shape", 5)
        r.str("shape.shape_id")
        r.uint("shape.tenant_id")
        name, fields = r.variant("shape.shape_type")
        if name != "Document" or not fields:
            raise Bad("shape.shape_type: unknown variant %r (want Document)" % name)
        r.struct("shape.shape_type.Document", 1)
        r.str("shape.shape_type.Document.collection")
        r.str("shape.description")
        r.str_list("shape.field_filter")
    elif t == THROTTLE:
        r.struct("Throttle", 3)
        r.bool("throttle")
        r.uint("queue_depth")
        r.uint("suggested_rate")
    else:                                # a known type no node here models
        r.skip("body")
    if r.p != len(r.d):
        raise Bad("%d bytes after the body value" % (len(r.d) - r.p))
    return t, v


def load_snapshot(data, count):
    """ShapeSnapshot.data of the reference Origin: documents sorted by id,
    each uvarint(len id) id uvarint(len value) value."""
    docs, p = {}, 0

    def field(p):
        n = shift = 0
        while True:
            if p >= len(data) or shift > 63:
                raise Bad("snapshot: bad length at byte %d" % p)
            c = data[p]
            p += 1
            n |= (c & 0x7F) << shift
            shift += 7
            if c < 0x80:
                break
        if n > len(data) - p:
            raise Bad("snapshot: length past the end at byte %d" % p)
        return data[p:p + n], p + n

    while p < len(data):
        doc, p = field(p)
        value, p = field(p)
        if not value:
            raise Bad("snapshot: empty value")
        try:
            docs[doc.decode()] = value
        except UnicodeDecodeError:
            raise Bad("snapshot: document id is not UTF-8")
    if len(docs) != count:
        raise Bad("snapshot: holds %d documents, header says %d" % (len(docs), count))
    return docs

# ------------------------------------------------------------------ durable state
# A journal is a file of records, one JSON array a line, each line prefixed
# with the CRC-32 of its JSON so that a torn byte is found at restart. The
# outbox (unacked writes and the mutation counter, the only copy of the
# user's writes) is kept in two mirrored journals whose records carry a
# sequence number, so a torn byte in one is repaired from the other. The
# documents are kept once: Origin holds them too, so a torn byte there
# wipes them and the Lite asks for a snapshot (corrupted-state).


class Journal:
    def __init__(self, path):
        self.path, self.fd, self.count = path, None, 0

    def read(self):
        """The records that pass their checksum, and how many lines did not."""
        try:
            with open(self.path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return [], 0
        recs, bad = [], 0
        for line in data.split(b"\n"):
            if not line:
                continue
            crc, body = line[:8], line[9:]
            if line[8:9] != b" " or crc != b"%08x" % zlib.crc32(body):
                bad += 1
                continue
            try:
                recs.append(json.loads(body))
            except ValueError:
                bad += 1
        return recs, bad

    @staticmethod
    def line(rec):
        body = json.dumps(rec, separators=(",", ":")).encode()
        return b"%08x %s\n" % (zlib.crc32(body), body)

    def append(self, data, n):
        if self.fd is None:
            self.fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        while data:
            data = data[os.write(self.fd, data):]
        self.count += n

    def rewrite(self, recs):
        tmp = self.path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(b"".join(self.line(r) for r in recs))
        os.replace(tmp, self.path)
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        self.count = len(recs)

# ------------------------------------------------------------------ the Lite


class Mutation:
    __slots__ = ("id", "coll", "doc", "delta", "crc", "sent", "sent_at")

    def __init__(self, mid, coll, doc, delta):
        self.id, self.coll, self.doc, self.delta = mid, coll, doc, delta
        self.crc = crc32c(delta)
        self.sent, self.sent_at = False, 0

    def record(self, kind):
        return [kind, self.id, self.coll, self.doc, self.delta.hex()]


class Resync:
    """A ResyncRequest this Lite sent and keeps until it is answered."""
    __slots__ = ("coll", "gap", "expected", "received", "frm", "target", "attempts", "next_at", "delay")

    def __init__(self, coll, gap, frm, received, target):
        self.coll, self.gap = coll, gap
        self.expected, self.received, self.frm, self.target = frm, received, frm, target
        self.attempts, self.next_at, self.delay = 0, 0, RESYNC_BASE


class Shape:
    """One subscription: shape:<coll>. docs and last are durable."""

    def __init__(self, coll):
        self.coll, self.sid, self.jcoll = coll, "shape:" + coll, json.dumps(coll)
        self.docs = {}        # doc id -> (value, hash)
        self.digest = 0
        self.last = 0         # LSN of the last delta applied (or snapshot loaded)
        self.live = False     # Origin's clock shows it serves the shape on this connection
        self.reorder = {}     # LSN -> (doc, value or None): arrived above a gap
        self.resync = None
        self.check = None     # (lsn, digest) from Origin's clock, checked on reaching lsn

    def put(self, doc, value):
        old = self.docs.pop(doc, None)
        if old is not None:
            self.digest = (self.digest - old[1]) & M64
        if value:
            h = doc_hash(doc, value)
            self.docs[doc] = (value, h)
            self.digest = (self.digest + h) & M64

    def load(self, lsn, docs):
        self.docs, self.digest, self.last = {}, 0, lsn
        for doc, value in docs:
            self.put(doc, value)

    def record(self):
        return ["s", self.coll, self.last, [[d, v[0].hex()] for d, v in self.docs.items()]]


class Lite:
    def __init__(self, hello):
        self.origin = hello["origin"]
        self.peer_id = hello["peer_id"]
        self.bare_units = hello.get("wire") == "zerompk-0.6"
        self.rng = Rand(hello["seed"])
        self.shapes = [Shape(c) for c in hello["collections"]]
        self.by_coll = {s.coll: s for s in self.shapes}
        self.by_sid = {s.sid: s for s in self.shapes}
        d = hello["state_dir"]
        self.outbox = [Journal(os.path.join(d, "outbox.a")), Journal(os.path.join(d, "outbox.b"))]
        self.docstore = Journal(os.path.join(d, "documents"))
        self.out_recs, self.doc_recs, self.seq = [], [], 0
        # durable
        self.unacked = {}     # id -> Mutation, in id order
        self.recent = {}      # acked, in ack order, until Origin's applied mark passes them
        self.next_mid = 1
        self.max_acked = 0    # highest id acked; above Origin's applied mark means a false ack
        self.corrupted = False
        if hello.get("restart"):
            self.load()
        self.checkpoint()
        # volatile
        self.now = 0
        self.gen = 0
        self.attempt = 0
        self.rate = DRAIN_RATE
        self.skew = 0
        self.cold_resync = False
        self.prev_mark, self.prev_mark_at = 0, 0
        self.last_ping = 0
        self.out = []
        self.reset()

    # -- durable state

    def load(self):
        seen = {}
        for j in self.outbox:
            for rec in j.read()[0]:
                seen.setdefault(rec[0], rec)
        if sorted(seen) != list(range(len(seen))):
            sys.stderr.write("lite.py: both copies of the outbox lost records %s\n" %
                             sorted(set(range(max(seen, default=-1) + 1)) - set(seen)))
        for seq in sorted(seen):
            kind, a = seen[seq][1], seen[seq][2:]
            if kind in ("w", "k"):
                m = Mutation(a[0], a[1], a[2], bytes.fromhex(a[3]))
                m.sent = NO_RETRY  # no-retry: whatever was written was sent
                (self.unacked if kind == "w" else self.recent)[m.id] = m
                self.next_mid = max(self.next_mid, m.id + 1)
            elif kind == "a":
                m = self.unacked.pop(a[0], None)
                if m is not None:
                    self.recent[m.id] = m
                    self.max_acked = max(self.max_acked, m.id)
            elif kind == "x":
                self.unacked.pop(a[0], None)
                self.recent.pop(a[0], None)
            elif kind == "f":
                self.recent = {k: m for k, m in self.recent.items() if k > a[0]}
            elif kind == "n":
                self.next_mid, self.max_acked = max(self.next_mid, a[0]), max(self.max_acked, a[1])
        recs, bad = self.docstore.read()
        if bad:
            self.corrupted = True  # wiped; reported at the restart step
            return
        for rec in recs:
            s = self.by_coll.get(rec[1])
            if s is None:
                continue
            if rec[0] == "s":
                s.load(rec[2], [(d, bytes.fromhex(v)) for d, v in rec[3]])
            elif rec[0] == "d":
                s.put(rec[3], bytes.fromhex(rec[4]) if rec[4] is not None else None)
                s.last = rec[2]

    def checkpoint(self):
        """Rewrites the journals as the state now (compaction, and a repair
        of any copy torn at a crash)."""
        recs = [["n", self.next_mid, self.max_acked]]
        recs += [m.record("w") for m in self.unacked.values()]
        recs += [m.record("k") for m in self.recent.values()]
        recs = [[i] + r for i, r in enumerate(recs)]
        self.seq = len(recs)
        for j in self.outbox:
            j.rewrite(recs)
        self.docstore.rewrite([s.record() for s in self.shapes])

    def save_out(self, *rec):
        self.out_recs.append(Journal.line([self.seq] + list(rec)))
        self.seq += 1

    def flush(self):
        """Makes the step's changes durable (before its end line)."""
        if self.out_recs:
            data = b"".join(self.out_recs)
            for j in self.outbox:
                j.append(data, len(self.out_recs))
            self.out_recs = []
        if self.doc_recs:
            self.docstore.append(b"".join(self.doc_recs), len(self.doc_recs))
            self.doc_recs = []
        if self.outbox[0].count > COMPACT_AFTER or self.docstore.count > COMPACT_AFTER:
            self.checkpoint()

    # -- effects

    def send(self, f):
        if self.conn:
            self.out.append('{"fx":"send","conn":%d,"frame":"%s"}' % (self.conn, f.hex()))

    def timer(self, after, kind):
        self.out.append('{"fx":"timer","after_ns":%d,"tag":%d}' % (after, self.gen << 8 | kind))

    def event(self, name, **fields):
        self.out.append(json.dumps({"fx": "event", "event": name, **fields}, separators=(",", ":")))

    # -- connection

    def reset(self):
        """Drops what the connection carried (and whatever a crash loses)."""
        self.gen += 1
        self.conn, self.dialing, self.ready = 0, False, False
        self.since = self.last_heard = self.now
        self.queue, self.budget, self.refill_at = deque(), 0.0, self.now
        self.throttled, self.throttle_at = False, 0
        for s in self.shapes:
            s.live, s.reorder, s.resync, s.check = False, {}, None, None
        if not NO_RETRY:
            for m in self.unacked.values():
                m.sent = False

    def dial(self):
        if not self.conn and not self.dialing:
            self.dialing = True
            self.out.append('{"fx":"dial","peer":%d}' % self.origin)

    def lost(self):
        """The connection died: reconnect after min(base * 2^attempt, max) plus jitter."""
        self.reset()
        self.attempt += 1
        d = min(BACKOFF_BASE << min(self.attempt - 1, 20), BACKOFF_MAX)
        d += self.rng.below(d // 2 + 1)
        self.timer(TICK, 1)
        self.timer(d, 2)
        self.event("reconnecting", attempt=self.attempt)

    def subscribe(self):
        self.since = self.now
        for s in self.shapes:
            if not s.live:
                self.send(enc_subscribe(s.coll))

    # -- upstream: local writes as DeltaPush

    def write(self, coll, doc, value):
        if coll not in self.by_coll:
            return
        m = Mutation(self.next_mid, coll, doc, b"\x01" + value if value else b"\x02")
        self.next_mid += 1
        self.unacked[m.id] = m
        self.save_out(*m.record("w"))
        self.push_due()

    def push_due(self):
        """Pushes what was never sent on this connection or whose ack is overdue."""
        if not self.ready:
            return
        for i, m in enumerate(self.unacked.values()):
            if i >= MAX_IN_FLIGHT:
                break
            if m.sent and (NO_RETRY or self.now - m.sent_at < ACK_TIMEOUT):
                continue
            self.push(m)

    def push(self, m):
        m.sent, m.sent_at = True, self.now
        self.send(enc_push(m, self.peer_id, (self.now + self.skew) // MS))

    def acked(self, mid, lsn, rejected):
        """Retires exactly mutation mid (acks are not cumulative: a corrupted
        ack id would otherwise retire mutations Origin never applied)."""
        m = self.unacked.pop(mid, None)
        if m is not None:
            if rejected:
                self.event("rejected", mutation=mid)
                self.save_out("x", mid)
                return
            self.event("acked", mutation=mid, lsn=lsn)
            self.max_acked = max(self.max_acked, mid)
            self.recent[mid] = m
            self.save_out("a", mid)
            if len(self.recent) > RECENT_MAX:
                for k in list(self.recent)[:RECENT_MAX // 4]:
                    del self.recent[k]
                    self.save_out("x", k)
        elif rejected and mid in self.recent:
            # We took a corrupted frame for its ack: believe the rejection.
            del self.recent[mid]
            self.event("rejected", mutation=mid)
            self.save_out("x", mid)

    def resend(self, frm):
        """Origin asks for our mutations from id frm on (it applies them in order)."""
        if NO_RETRY:
            return
        due = [m for m in self.recent.values() if m.id >= frm] + [m for m in self.unacked.values() if m.id >= frm]
        due.sort(key=lambda m: m.id)
        for m in due[:MAX_IN_FLIGHT]:
            self.push(m)

    def applied_mark(self, mark):
        """Origin's clock carries the highest of our mutations it applied."""
        if self.now - self.prev_mark_at >= MARK_SPACING:
            # Forget what two clocks agree is applied: one corrupted clock
            # cannot make us forget what Origin lacks.
            safe = min(mark, self.prev_mark)
            if safe and any(k <= safe for k in self.recent):
                self.recent = {k: m for k, m in self.recent.items() if k > safe}
                self.save_out("f", safe)
            self.prev_mark, self.prev_mark_at = mark, self.now
        else:
            self.prev_mark = min(self.prev_mark, mark)
        if self.max_acked > mark:
            self.resend(mark + 1)  # an ack we believed was a corrupted frame

    # -- downstream: snapshots and deltas, applied in LSN order

    def enqueue(self, sid, lsn, doc, value):
        s = self.by_sid.get(sid)
        if s is None:
            return
        if len(self.queue) >= QUEUE_CAP:
            self.out.append('{"fx":"event","event":"queue-overflow","collection":%s,"lsn":%d}' % (s.jcoll, lsn))
            return
        self.queue.append((s, lsn, doc, value))
        if not self.throttled and len(self.queue) >= HIGH_WATER:
            self.set_throttle(True)
        self.drain()

    def refill(self):
        """Credits the drain budget for the time since the last refill (at
        most one tick's worth: an idle consumer banks no burst)."""
        cap = max(1.0, self.rate * TICK / 1e9)
        self.budget = min(self.budget + self.rate * (self.now - self.refill_at) / 1e9, cap)
        self.refill_at = self.now

    def drain(self):
        """Applies queued deltas as fast as the drain rate allows."""
        self.refill()
        q = self.queue
        while q and self.budget >= 1:
            self.budget -= 1
            self.process(*q.popleft())

    def set_throttle(self, on):
        self.throttled, self.throttle_at = on, self.now
        self.send(enc_throttle(on, len(self.queue), int(self.rate) if on else 0))

    def process(self, s, lsn, doc, value):
        if lsn <= s.last:
            return  # old or duplicate: never a rewind
        if lsn > s.last + 1:
            if SKIP_GAP:
                self.apply(s, lsn, doc, value)  # the defect: the gap goes unnoticed
                return
            if len(s.reorder) < REORDER_CAP:
                s.reorder[lsn] = (doc, value)
            if s.resync is None:
                self.ask(s, True, s.last + 1, lsn, lsn - 1)
            return
        self.apply(s, lsn, doc, value)
        self.apply_ready(s)

    def apply(self, s, lsn, doc, value):
        s.put(doc, value)
        s.last = lsn
        self.doc_recs.append(Journal.line(["d", s.coll, lsn, doc, value.hex() if value else None]))
        self.out.append('{"fx":"event","event":"applied","collection":%s,"lsn":%d}' % (s.jcoll, lsn))

    def apply_ready(self, s):
        """Applies held deltas now in order, then settles the shape's resync
        and digest check."""
        while s.last + 1 in s.reorder:
            doc, value = s.reorder.pop(s.last + 1)
            self.apply(s, s.last + 1, doc, value)
        r = s.resync
        if r is not None and r.gap and s.last >= r.target:
            s.resync = None
            self.event("resync-answered", collection=s.coll, lsn=s.last)
        if s.resync is None and s.reorder:
            low = min(s.reorder)  # a gap opened while another resync was pending
            self.ask(s, True, s.last + 1, low, low - 1)
        if s.check is not None and s.last == s.check[0]:
            digest, s.check = s.check[1], None
            if s.digest != digest:
                # Same LSN, other contents (a ShapeDelta has no checksum):
                # only a snapshot mends that.
                self.event("digest-mismatch", collection=s.coll, lsn=s.last)
                self.ask(s, False, 0, 0, 0)

    def ask(self, s, gap, frm, received, target):
        s.resync = Resync(s.coll, gap, frm, received, target)
        self.send_resync(s)

    def send_resync(self, s):
        r = s.resync
        if r.attempts and r.gap and s.last + 1 > r.frm:
            r.frm = r.expected = s.last + 1  # ask only for what is still missing
        r.attempts += 1
        r.next_at = self.now + r.delay
        r.delay = min(2 * r.delay, RESYNC_MAX)
        if r.attempts % 4 == 0:  # still unanswered: perhaps Origin lost our subscribe
            s.live = False
            self.subscribe()
        self.send(enc_resync(r, self.bare_units))
        self.out.append('{"fx":"event","event":"resync-sent","collection":%s,"from":%d,"attempt":%d}' %
                        (s.jcoll, r.frm, r.attempts))

    def snapshot(self, sid, data, lsn, count):
        s = self.by_sid.get(sid)
        if s is None:
            return
        try:
            docs = load_snapshot(data, count)
        except Bad as e:
            self.event("decode-error", error=str(e))
            self.ask(s, False, 0, 0, 0)
            return
        s.load(lsn, docs.items())
        for k in [k for k in s.reorder if k <= lsn]:
            del s.reorder[k]
        self.doc_recs.append(Journal.line(s.record()))
        self.event("snapshot-loaded", collection=s.coll, lsn=lsn)
        if s.resync is not None:
            s.resync = None
            self.event("resync-answered", collection=s.coll, lsn=lsn)
        self.apply_ready(s)

    def clock(self, clocks):
        """Origin's VectorClockSync: per collection the last LSN it sent on
        this connection (and "#digest:<c>", its digest there), and
        "#applied", our highest mutation it applied. Frames on a connection
        are FIFO, so what is at or below that LSN and not here was lost."""
        if "#applied" in clocks:
            self.applied_mark(clocks["#applied"])
        for s in self.shapes:
            sent = clocks.get(s.coll)
            if sent is None:
                continue
            s.live = True
            for k in [k for k in s.reorder if k > sent]:
                del s.reorder[k]  # above anything Origin sent: an LSN corrupted in transit
            if s.resync is not None and s.resync.target > sent:
                s.resync.target = sent
            if s.last > sent and s.resync is None:
                self.ask(s, False, 0, 0, 0)  # our tracker is past Origin's: distrust our state
                continue
            digest = clocks.get("#digest:" + s.coll)
            if digest is not None and sent >= s.last:
                s.check = (sent, digest)
            if s.resync is None and self.highest_held(s, sent) < sent:
                self.ask(s, True, s.last + 1, sent, sent)  # the tail was lost
            self.apply_ready(s)

    def highest_held(self, s, sent):
        h = s.last
        for k in s.reorder:
            if h < k <= sent:
                h = k
        for q in self.queue:
            if q[0] is s and h < q[1] <= sent:
                h = q[1]
        return h

    def frame(self, raw):
        try:
            t, v = decode(raw, self.bare_units)
        except Bad as e:
            self.event("decode-error", error=str(e))
            return
        if t == SHAPE_DELTA:
            sid, _, doc, op, delta, lsn = v
            self.enqueue(sid, lsn, doc, None if op == "DELETE" else delta)
        elif t == DELTA_ACK:
            self.acked(v[0], v[1], False)
        elif t == CLOCK:
            self.clock(v)
        elif t == SNAPSHOT:
            self.snapshot(*v)
        elif t == HANDSHAKE_ACK:
            if v and not self.ready:
                self.ready = True
                self.subscribe()
                if self.cold_resync:
                    self.cold_resync = False
                    for s in self.shapes:
                        self.ask(s, False, 0, 0, 0)
                self.push_due()
        elif t == DELTA_REJECT:
            self.acked(v, 0, True)
        elif t == RESYNC:
            self.resend(v[0])
        elif t == PING:
            if not v[1]:
                self.send(enc_ping(v[0], True))

    def tick(self):
        self.timer(TICK, 1)
        if not self.conn:
            return
        if self.now - self.last_heard >= DEAD_AFTER or (not self.ready and self.now - self.since >= REANNOUNCE):
            self.out.append('{"fx":"close","conn":%d}' % self.conn)
            self.lost()
            return
        if self.now - self.since >= REANNOUNCE:
            self.subscribe()
        self.drain()
        if self.throttled:
            if len(self.queue) <= LOW_WATER:
                self.set_throttle(False)
            elif self.now - self.throttle_at >= REANNOUNCE:
                self.set_throttle(True)  # renew the lease; repeats a lost one
        for s in self.shapes:
            if s.resync is not None and self.ready and self.now >= s.resync.next_at:
                self.send_resync(s)
        self.push_due()
        if self.now - self.last_ping >= PING_EVERY:
            self.last_ping = self.now
            self.send(enc_ping(self.now // MS, False))

    # -- one input of the node protocol

    def step(self, m):
        kind = m["in"]
        if kind == "control":  # its "t" is not always the time: leave now alone
            # (and a control is answered with its end line alone).
            if m["control"] == "slow":
                self.refill()  # what was earned at the old rate
                # A zero is left out of the line; a rate of 0 would stall.
                self.rate = max(1.0, DRAIN_RATE * m.get("factor", 0))
            elif m["control"] == "skew":
                self.skew = m.get("offset_ns", 0)
            return
        if kind == "probe":
            self.out.append(json.dumps({
                "fx": "probe",
                "collections": [{"name": s.coll, "lsn": s.last, "digest": "%016x" % s.digest} for s in self.shapes],
                "connected": self.ready, "unacked": len(self.unacked),
                "resyncing": sum(s.resync is not None for s in self.shapes),
                "queue_depth": len(self.queue), "throttled": self.throttled, "sessions": []},
                separators=(",", ":")))
            return
        self.now = m["t"]
        if kind == "frame":
            if m["conn"] == self.conn and self.conn:
                self.last_heard = self.now
                self.frame(bytes.fromhex(m["frame"]))
        elif kind == "timer":
            tag = m["tag"]
            if tag >> 8 == self.gen:
                if tag & 0xFF == 1:
                    self.tick()
                elif tag & 0xFF == 2:
                    self.dial()
        elif kind == "write":
            v = m["value"]
            self.write(m["collection"], m["doc"], bytes.fromhex(v) if v else b"")
        elif kind == "conn-up":
            if m["conn"] and self.dialing:
                self.dialing, self.conn, self.attempt = False, m["conn"], 0
                self.since = self.last_heard = self.now
                self.send(enc_handshake({s.coll: s.last for s in self.shapes}, str(self.peer_id)))
        elif kind == "conn-down":
            if (self.conn and m["conn"] == self.conn) or (self.dialing and m["conn"] == 0):
                self.lost()
        elif kind in ("start", "restart"):
            if self.corrupted:
                self.corrupted, self.cold_resync = False, True
                self.event("corrupted-state")
            self.timer(TICK, 1)
            self.dial()
        else:
            raise SystemExit("lite.py: unknown input %r" % kind)


def write_all(data):
    while data:
        data = data[os.write(1, data):]


def main():
    stdin = sys.stdin.buffer
    hello = json.loads(stdin.readline() or "{}")
    if hello.get("in") != "hello" or hello.get("role") != "lite":
        raise SystemExit("lite.py: want a Lite's hello first, got %r" % hello)
    if hello.get("wire") not in ("zerompk-0.4", "zerompk-0.6"):
        raise SystemExit("lite.py: wire profile %r: want zerompk-0.4 or zerompk-0.6" % hello.get("wire"))
    write_all(json.dumps({
        "fx": "hello", "version": 1, "name": "lite.py" + ("+" + DEFECT if DEFECT else ""),
        "claims": ["in-order-apply", "queue-capacity", "convergence"],
        "queue": {"capacity": QUEUE_CAP, "high_water": HIGH_WATER, "low_water": LOW_WATER},
        "controls": ["slow", "skew"]}, separators=(",", ":")).encode() + b"\n")
    lite = Lite(hello)
    for line in stdin:
        lite.out = []
        lite.step(json.loads(line))
        lite.flush()  # durable before the end line: a crash comes only between steps
        lite.out.append('{"fx":"end"}\n')
        write_all("\n".join(lite.out).encode())


if __name__ == "__main__":
    main()
