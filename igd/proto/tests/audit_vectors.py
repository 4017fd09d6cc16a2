#!/usr/bin/env python3
"""Independent derivation of igd/proto/testdata/audit.json (DESIGN §5), standard library only.

    audit_vectors.py check FILE      recompute every expected value from the vector inputs
    audit_vectors.py generate FILE   write the vectors (inputs below, legacy rows from FILE's
                                     "legacy" section, which a previous release produced)

Hand-written here, sharing no code with the Rust implementation: RFC 8785 (JCS) with ECMAScript
number formatting and UTF-16 key order, SHA-256 entry hashes and chains, args commitments, the
C2SP signed-note checkpoint body, key id and Ed25519 signature (RFC 8032 reference arithmetic).
"""

import base64
import hashlib
import json
import sys

# --- RFC 8785 -----------------------------------------------------------------------------------


def jcs_number(x):
    f = float(x)
    if f != f or f in (float("inf"), float("-inf")):
        raise ValueError("not a finite number")
    if f == 0:
        return "0"
    sign = "-" if f < 0 else ""
    text = repr(abs(f))  # shortest round-trip digits
    mantissa, _, exp = text.partition("e")
    whole, _, frac = mantissa.partition(".")
    if frac == "0":
        frac = ""
    digits = (whole + frac).lstrip("0")
    e10 = int(exp or 0) - len(frac)
    while digits.endswith("0"):
        digits = digits[:-1]
        e10 += 1
    k = len(digits)
    n = k + e10  # value = 0.digits × 10^n
    if k <= n <= 21:
        out = digits + "0" * (n - k)
    elif 0 < n <= 21:
        out = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        out = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        e_text = ("+" if e >= 0 else "-") + str(abs(e))
        out = digits[0] + ("." + digits[1:] if k > 1 else "") + "e" + e_text
    return sign + out


ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def jcs_string(s):
    out = ['"']
    for ch in s:
        if ch in ESCAPES:
            out.append(ESCAPES[ch])
        elif ord(ch) < 0x20:
            out.append("\\u%04x" % ord(ch))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def jcs(v):
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, str):
        return jcs_string(v)
    if isinstance(v, (int, float)):
        return jcs_number(v)
    if isinstance(v, list):
        return "[" + ",".join(jcs(x) for x in v) + "]"
    if isinstance(v, dict):
        keys = sorted(v, key=lambda k: k.encode("utf-16-be"))  # UTF-16 code-unit order
        return "{" + ",".join(jcs_string(k) + ":" + jcs(v[k]) for k in keys) + "}"
    raise TypeError(type(v))


# --- entries, chains, commitments ---------------------------------------------------------------

GENESIS = "0" * 64


def entry_canonical(entry):
    return jcs({k: v for k, v in entry.items() if k != "hash"})


def entry_hash(entry):
    return hashlib.sha256(b"\x00" + entry_canonical(entry).encode("utf-8")).hexdigest()


def commitment(salt_hex, args):
    return hashlib.sha256(bytes.fromhex(salt_hex) + jcs(args).encode("utf-8")).hexdigest()


# --- Ed25519 (RFC 8032 §5.1, reference arithmetic) ----------------------------------------------

P = 2**255 - 19
Q = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def _x_of(y, sign):
    xx = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
    x = pow(xx, (P + 3) // 8, P)
    if (x * x - xx) % P:
        x = x * SQRT_M1 % P
    if (x * x - xx) % P:
        raise ValueError("not a curve point")
    if x & 1 != sign:
        x = P - x
    return x


_BY = 4 * pow(5, P - 2, P) % P
_BX = _x_of(_BY, 0)
BASE = (_BX, _BY, 1, _BX * _BY % P)


def _add(p1, p2):
    a = (p1[1] - p1[0]) * (p2[1] - p2[0]) % P
    b = (p1[1] + p1[0]) * (p2[1] + p2[0]) % P
    c = 2 * p1[3] * p2[3] * D % P
    d = 2 * p1[2] * p2[2] % P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def _mul(s, point):
    acc = (0, 1, 1, 0)
    while s:
        if s & 1:
            acc = _add(acc, point)
        point = _add(point, point)
        s >>= 1
    return acc


def _encode(point):
    zi = pow(point[2], P - 2, P)
    x, y = point[0] * zi % P, point[1] * zi % P
    return (y | (x & 1) << 255).to_bytes(32, "little")


def _decode(raw):
    n = int.from_bytes(raw, "little")
    y = n & ((1 << 255) - 1)
    x = _x_of(y, n >> 255)
    return (x, y, 1, x * y % P)


def _expand(seed):
    h = hashlib.sha512(seed).digest()
    a = int.from_bytes(h[:32], "little")
    a &= (1 << 254) - 8
    a |= 1 << 254
    return a, h[32:]


def public_key(seed):
    return _encode(_mul(_expand(seed)[0], BASE))


def sign(seed, msg):
    a, prefix = _expand(seed)
    pub = _encode(_mul(a, BASE))
    r = int.from_bytes(hashlib.sha512(prefix + msg).digest(), "little") % Q
    big_r = _encode(_mul(r, BASE))
    h = int.from_bytes(hashlib.sha512(big_r + pub + msg).digest(), "little") % Q
    return big_r + ((r + h * a) % Q).to_bytes(32, "little")


def verify(pub, msg, sig):
    s = int.from_bytes(sig[32:], "little")
    if s >= Q:
        return False
    h = int.from_bytes(hashlib.sha512(sig[:32] + pub + msg).digest(), "little") % Q
    return _encode(_mul(s, BASE)) == _encode(_add(_decode(sig[:32]), _mul(h, _decode(pub))))


# --- signed-note checkpoints --------------------------------------------------------------------


def key_id(name, pub):
    return hashlib.sha256(name.encode() + b"\n" + b"\x01" + pub).digest()[:4]


def verifier_key(name, pub):
    return "%s+%s+%s" % (name, key_id(name, pub).hex(), base64.b64encode(b"\x01" + pub).decode())


def body(origin, size, hash_hex):
    return "%s\n%d\n%s\n" % (origin, size, base64.b64encode(bytes.fromhex(hash_hex)).decode())


def note(seed, name, origin, size, hash_hex):
    text = body(origin, size, hash_hex)
    pub = public_key(seed)
    sig = key_id(name, pub) + sign(seed, text.encode())
    return text + "\n\u2014 %s %s\n" % (name, base64.b64encode(sig).decode())


def open_note(text, vkey):
    """Check a note against a verifier key string; returns (origin, size, hash hex)."""
    name, kid, b64 = vkey.split("+", 2)
    raw = base64.b64decode(b64)
    assert raw[0] == 1 and len(raw) == 33
    pub = raw[1:]
    assert key_id(name, pub).hex() == kid
    head, sigs = text.split("\n\n", 1)
    head += "\n"
    for line in sigs.splitlines():
        signer, blob = line[len("\u2014 "):].rsplit(" ", 1)
        blob = base64.b64decode(blob)
        if signer == name and blob[:4] == key_id(name, pub) and verify(pub, head.encode(), blob[4:]):
            origin, size, h = head.splitlines()
            return origin, int(size), base64.b64decode(h).hex()
    raise AssertionError("no valid signature by " + vkey)


# --- the vectors --------------------------------------------------------------------------------

CANONICAL_INPUTS = [
    ("integers and strings", {"b": 2, "a": "x", "c": [1, -7, 0]}),
    ("floats", {"one": 1.0, "half": 1.5, "tenth": 0.1, "tiny": 1e-7, "small": 0.000001,
                "big": 1e21, "bigish": 1e20, "neg_zero": -0.0, "third": 1 / 3,
                "min": 5e-324, "max": 1.7976931348623157e308, "neg": -123.456e-10}),
    ("integers past 2^53 become doubles", {"n": 12345678901234567890, "m": 9007199254740993,
                                           "huge": 10**30}),
    ("key order is UTF-16", {"\u20ac": 1, "\U0001F600": 2, "\ufb33": 3, "a": 4, "\r": 5, "\u00f6": 6}),
    ("string escapes", ["\u0001\u001f\u007f", "\"\\/\b\f\n\r\t", "\u2028\u2029", "ü€😀"]),
    ("nested", {"z": {"y": [True, False, None, {"b": [], "a": {}}]}, "": ""}),
]

ARGS_INPUTS = [
    ("string args", "000102030405060708090a0b0c0d0e0f", {"message": "hello"}),
    ("float args", "0f0e0d0c0b0a09080706050403020100", {"amount": 1.0, "rate": 1e-7, "limit": 1e21}),
    ("unicode keys", "ffffffffffffffffffffffffffffffff", {"\U0001F600": "x", "\ufb33": [0.5, -0.0]}),
]


def entry_inputs():
    base = {"v": 1, "tenant": "acme", "instance": "0123456789abcdef0123456789abcdef"}
    decision = dict(base, seq=1, kind="decision", event_id="aa" * 16, ts=1_800_000_000_000_000,
                    subject="agent-\u00fc \"q\"", delegated_subject="helper", jti="11" * 16,
                    root_jti="22" * 16, jti_chain=["22" * 16, "11" * 16], method="tools/call",
                    tool="read_invoice", decision="escalate", check="policy",
                    reason="line\nbreak\ttab\u0001", policy_revision="sha256:" + "ab" * 32,
                    requires_step_up=True, approval_id="33" * 16,
                    args_commitment=commitment(ARGS_INPUTS[1][1], ARGS_INPUTS[1][2]),
                    prev_hash=GENESIS)
    outcome = dict(base, seq=2, kind="outcome", event_id="bb" * 16, ref_event_id="aa" * 16,
                   ts=1_800_000_000_000_123, upstream_status=0, upstream_latency_ms=1234)
    admin = dict(base, seq=3, kind="admin", event_id="cc" * 16, ts=1_800_000_000_100_000,
                 actor="uid:0", action="rebaseline", target="acme", decided_by="admin@example",
                 elevation_id="44" * 16)
    marker = dict(base, seq=4, kind="marker", event_id="dd" * 16, ts=1_800_000_000_200_000,
                  actor="uid:0", action="prune", reason="retention 90 days", cut_seq=2)
    chain = [decision, outcome, admin, marker]
    prev = GENESIS
    for e in chain:
        e["prev_hash"] = prev
        if e["kind"] == "marker":
            e["cut_hash"] = chain[e["cut_seq"] - 1]["hash"]
        e["hash"] = entry_hash(e)
        prev = e["hash"]
    return chain


CHECKPOINT_INPUTS = [
    ("acme head", "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "intentgate/d1", "intentgate/d1/acme", 4),
    ("_system", "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "intentgate/0123456789abcdef", "intentgate/0123456789abcdef/_system", 1),
]


def generate(path):
    with open(path, encoding="utf-8") as f:
        legacy = json.load(f)["legacy"]
    chain = entry_inputs()
    doc = {
        "comment": "IntentGate audit known-answer vectors (DESIGN §5): RFC 8785 canonical JSON, "
                   "args commitments, entry hashes, a chain, signed-note checkpoints, and a chain "
                   "written by an earlier release (must keep verifying). Derived by "
                   "tests/audit_vectors.py, independently of the Rust code.",
        "canonical": [{"name": n, "value": v, "jcs": jcs(v)} for n, v in CANONICAL_INPUTS],
        "args": [{"name": n, "salt": s, "args": a, "canonical": jcs(a), "commitment": commitment(s, a)}
                 for n, s, a in ARGS_INPUTS],
        "chain": [{"entry": e, "canonical": entry_canonical(e), "hash": e["hash"]} for e in chain],
        "checkpoints": [],
        "legacy": legacy,
    }
    head = chain[-1]
    for n, seed, name, origin, size in CHECKPOINT_INPUTS:
        seed_b = bytes.fromhex(seed)
        h = head["hash"] if origin.endswith("/acme") else chain[0]["hash"]
        doc["checkpoints"].append({
            "name": n, "seed": seed, "key_name": name, "origin": origin, "size": size, "hash": h,
            "verifier_key": verifier_key(name, public_key(seed_b)),
            "body": body(origin, size, h),
            "note": note(seed_b, name, origin, size, h),
        })
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=2, sort_keys=True)
        f.write("\n")


def check(path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    count = 0
    for v in doc["canonical"]:
        assert jcs(v["value"]) == v["jcs"], v["name"]
        count += 1
    for v in doc["args"]:
        assert jcs(v["args"]) == v["canonical"], v["name"]
        assert commitment(v["salt"], v["args"]) == v["commitment"], v["name"]
        count += 1
    prev, seq = GENESIS, 0
    for v in doc["chain"]:
        e = v["entry"]
        assert entry_canonical(e) == v["canonical"], e["seq"]
        assert entry_hash(e) == v["hash"] == e["hash"], e["seq"]
        assert e["prev_hash"] == prev and e["seq"] == seq + 1, e["seq"]
        prev, seq = e["hash"], e["seq"]
        count += 1
    for v in doc["checkpoints"]:
        pub = public_key(bytes.fromhex(v["seed"]))
        assert verifier_key(v["key_name"], pub) == v["verifier_key"], v["name"]
        assert body(v["origin"], v["size"], v["hash"]) == v["body"], v["name"]
        assert note(bytes.fromhex(v["seed"]), v["key_name"], v["origin"], v["size"], v["hash"]) == v["note"]
        assert open_note(v["note"], v["verifier_key"]) == (v["origin"], v["size"], v["hash"])
        count += 1
    legacy = doc["legacy"]
    prev, seq = GENESIS, 0
    for e in legacy["entries"]:
        assert entry_hash(e) == e["hash"], e["seq"]
        assert e["prev_hash"] == prev and e["seq"] == seq + 1, e["seq"]
        prev, seq = e["hash"], e["seq"]
        count += 1
    origin, size, h = open_note(legacy["note"], legacy["key"])
    assert (size, h) == (seq, prev), (size, seq)
    print("audit vectors: %d checked" % count)


if __name__ == "__main__":
    {"check": check, "generate": generate}[sys.argv[1]](sys.argv[2])
