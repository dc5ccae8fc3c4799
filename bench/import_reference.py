#!/usr/bin/env python3
"""Python reference for the import benchmark (bench/import.ts).

Reads a WildChat-style JSONL file line by line with the json module and applies the same
normalisation as the workbench's `dataset.import` job for the `wildchat` format: strict UTF-8,
one trailing CR stripped, blank lines skipped, roles mapped to system/user/assistant, turn
indices, per-message and top-level metadata kept, the content hash and stable id, the
personal-data scan (the same patterns and the same cheap screens before them), the duplicate
check, and one JSON line per conversation written to the output file.

It does not detect languages: no language detector is installed for Python here. The
workbench row without the language facet does the same work as this reference; the row with
it does more (eld on each conversation's first 160 characters of user text).

Usage: import_reference.py INPUT OUTPUT   (prints one JSON line with the timings)
"""
import base64
import hashlib
import json
import re
import resource
import sys
import time

ROLES = {
    "system": "system", "developer": "system", "user": "user", "human": "user", "prompter": "user",
    "customer": "user", "assistant": "assistant", "gpt": "assistant", "chatgpt": "assistant", "bot": "assistant",
    "model": "assistant", "ai": "assistant", "bard": "assistant", "bing": "assistant", "agent": "assistant",
}

EMAIL = re.compile(r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}")
NUMERIC = re.compile(r"(?<![\w.+-])[+(]?\d[\d .()-]{5,40}\d(?!\w)")
IPV4 = re.compile(r"^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$")
IPV4_ANYWHERE = re.compile(
    r"(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?!\w|\.\d)")
IPV6 = re.compile(
    r"(?<![\w:])(?:(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|(?:[0-9A-Fa-f]{1,4}:){1,6}:(?:[0-9A-Fa-f]{1,4}:){0,5}[0-9A-Fa-f]{1,4})(?![\w:])")
DATE_LIKE = re.compile(r"^\d{4}[-./]\d{1,2}[-./]\d{1,2}$|^\d{1,2}[-./]\d{1,2}[-./]\d{2,4}$")
STARTS_WITH_DATE = re.compile(r"^\d{4}[-./]\d{2}[-./]\d{2}")
CARD_LAYOUT = re.compile(r"^[2-6](?:\d{12,18}|\d{3}(?:[ -]\d{4}){2,3}(?:[ -]\d{1,4})?|\d{3}[ -]\d{6}[ -]\d{4,5})$")
PHONE_LAYOUT = re.compile(r"^(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]\d{2,4}){1,5}$")
INTERNATIONAL_COMPACT = re.compile(r"^\+\d{8,15}$")
SECRET_MARKERS = ["AKIA", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "sk-", "xox", "AIza", "k_live_",
                  "eyJ", "PRIVATE KEY", "Bearer"]
SECRET_TOKENS = re.compile(
    r"\b(?:AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255}|sk-[A-Za-z0-9_-]{20,200}"
    r"|xox[abprs]-[A-Za-z0-9-]{10,200}|AIza[0-9A-Za-z_-]{35}|[rs]k_live_[0-9A-Za-z]{16,200}"
    r"|eyJ[\w-]{8,2000}\.eyJ[\w-]{8,4000}\.[\w-]{8,2000})|-----BEGIN [A-Z ]{0,20}PRIVATE KEY-----"
    r"|\bBearer\s+[A-Za-z0-9._~+/-]{20,500}=*")
URL_CREDENTIALS = re.compile(r"\b[a-z][a-z0-9+.-]{1,15}://([^\s/:@]{1,128}:[^\s/@]{1,128})@", re.I)
SECRET_PARAMETER = re.compile(
    r"[?&](?:access_token|refresh_token|id_token|api[_-]?key|apikey|token|secret|client_secret|password|passwd|pwd"
    r"|auth|sig|signature|private_token|key)=([^&\s#\"'<>]{4,500})", re.I)
DIGIT = re.compile(r"\d")


def luhn(digits):
    total, double = 0, False
    for char in reversed(digits):
        digit = ord(char) - 48
        if double:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
        double = not double
    return total % 10 == 0


def classify(value):
    if IPV4.match(value):
        return None
    digits = re.sub(r"\D", "", value)
    if 13 <= len(digits) <= 19 and CARD_LAYOUT.match(value) and luhn(digits):
        return "card"
    if len(digits) < 9 or len(digits) > 15 or DATE_LIKE.match(value) or STARTS_WITH_DATE.match(value):
        return None
    return "phone" if PHONE_LAYOUT.match(value) or INTERNATIONAL_COMPACT.match(value) else None


def may_hold_secret(text):
    # The engine's screen (pii.ts holdsSecretMarker): one-character searches before the markers.
    maybe = ("_" in text or "-" in text or "J" in text or "AKIA" in text or "AIza" in text or "xox" in text
             or "PRIVATE KEY" in text or "Bearer" in text)
    return maybe and any(marker in text for marker in SECRET_MARKERS)


def find_pii(text):
    found = []
    if "@" in text:
        found += [("email", m.start(), m.end()) for m in EMAIL.finditer(text)]
    if DIGIT.search(text):
        for m in IPV4_ANYWHERE.finditer(text):
            if not m.group(0).startswith("127.") and m.group(0) != "0.0.0.0":
                found.append(("ip", m.start(), m.end()))
        for m in NUMERIC.finditer(text):
            value, start = m.group(0), m.start()
            stripped = value.lstrip(" .)-")
            start += len(value) - len(stripped)
            value = stripped.rstrip(" .(-")
            if value.startswith("(") and ")" not in value:
                value, start = value[1:], start + 1
            kind = classify(value)
            if kind:
                found.append((kind, start, start + len(value)))
    if "::" in text or text.count(":") >= 7:
        for m in IPV6.finditer(text):
            parts = [p for p in m.group(0).split(":") if p]
            if len(parts) >= 3 and DIGIT.search(m.group(0)):
                found.append(("ip", m.start(), m.end()))
    if may_hold_secret(text):
        found += [("secret", m.start(), m.end()) for m in SECRET_TOKENS.finditer(text)]
    if "://" in text:
        found += [("secret", m.start(1), m.end(1)) for m in URL_CREDENTIALS.finditer(text)]
    if "=" in text:
        found += [("secret", m.start(1), m.end(1)) for m in SECRET_PARAMETER.finditer(text)]
    if len(found) < 2:
        return found
    found.sort(key=lambda match: (match[1], -match[2]))
    kept = []
    for match in found:
        if kept and match[1] < kept[-1][2]:
            continue
        kept.append(match)
    return kept


class RowProblem(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def message_of(item, turn):
    if not isinstance(item, dict):
        raise RowProblem("field_type", "message is not an object")
    role = ROLES.get(str(item.get("role", "")).strip().lower())
    if role is None:
        raise RowProblem("role_unknown", "unknown role")
    content = item.get("content")
    if not isinstance(content, str):
        raise RowProblem("field_type", "content is not text")
    message = {"role": role, "content": content, "turn": turn}
    if isinstance(item.get("name"), str):
        message["name"] = item["name"]
    metadata = {k: v for k, v in item.items() if k not in ("role", "content", "name")}
    if metadata:
        message["metadata"] = metadata
    return message


def content_hash(messages):
    digest = hashlib.sha1()
    for message in messages:
        digest.update(("\u001em\u001f" + message["role"] + "\u001f").encode())
        digest.update(message["content"].strip().encode())
    return base64.b64encode(digest.digest()).decode()[:27]


def main(source, target):
    started = time.perf_counter()
    cpu_started = time.process_time()
    counts = {"rows": 0, "conversations": 0, "messages": 0, "rejected": 0, "duplicates": 0, "blank": 0}
    pii_counts = {}
    seen = {}
    file_name = source.rsplit("/", 1)[-1]
    offset = 0
    with open(source, "rb", buffering=1 << 20) as reader, open(target, "w", encoding="utf-8", buffering=1 << 22) as out:
        for number, raw in enumerate(reader, start=1):
            start = offset
            offset += len(raw)
            line = raw[:-1] if raw.endswith(b"\n") else raw
            if line.endswith(b"\r"):
                line = line[:-1]
            if number == 1 and line.startswith(b"\xef\xbb\xbf"):
                line, start = line[3:], 3
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError:
                counts["rejected"] += 1
                counts["rows"] += 1
                continue
            if not text.strip():
                counts["blank"] += 1
                continue
            counts["rows"] += 1
            try:
                record = json.loads(text)
                if not isinstance(record, dict) or not isinstance(record.get("conversation"), list):
                    raise RowProblem("field_type", "no conversation list")
                messages = [message_of(item, turn) for turn, item in enumerate(record["conversation"])]
                if not any(m["content"].strip() for m in messages):
                    raise RowProblem("conversation_empty", "no text")
            except (ValueError, RowProblem):
                counts["rejected"] += 1
                continue
            digest = content_hash(messages)
            where = f"{file_name}\u0000{number}\u0000\u0000{start}"
            conversation_id = hashlib.sha1((where + "\u0000" + digest).encode()).hexdigest()[:16]
            conversation = {
                "id": conversation_id,
                "source": {"file": file_name, "line": number, "byteOffset": start},
                "format": "wildchat",
                "messages": messages,
                "metadata": {k: v for k, v in record.items() if k != "conversation"},
            }
            spans, kinds = [], {}
            for message in messages:
                for kind, begin, end in find_pii(message["content"]) if message["content"] else []:
                    spans.append({"target": message["turn"], "start": begin, "end": end, "kind": kind})
                    kinds[kind] = kinds.get(kind, 0) + 1
            if spans:
                conversation["pii"] = {"counts": kinds, "spans": spans, "redacted": False}
                for kind, count in kinds.items():
                    pii_counts[kind] = pii_counts.get(kind, 0) + count
            first = seen.get(digest)
            if first is None:
                seen[digest] = conversation_id
            else:
                conversation["duplicateOf"] = first
                counts["duplicates"] += 1
            counts["conversations"] += 1
            counts["messages"] += len(messages)
            out.write(json.dumps(conversation, ensure_ascii=False, separators=(",", ":")))
            out.write("\n")
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    max_rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "cpuSeconds": cpu_seconds, "bytes": offset, "maxRssMb": max_rss_kb / 1024, "counts": counts,
                      "pii": pii_counts}))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: import_reference.py INPUT OUTPUT")
    main(sys.argv[1], sys.argv[2])
