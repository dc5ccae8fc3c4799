"""DRIFT data helpers: file schemas, the guided prompt of gen-drift.py, pair building.

Standard library only, so `drift_driver.py --dry-run` can validate a bundle on a login node
without torch, transformers or TRL installed.

File shapes (github.com/cacayaya/DRIFT `data/`; Msg = {"role", "content"}):
  dsat_data.jsonl         {"prompt": [Msg], "rejected": [Msg], "user_preference": Msg}
  seed-data/*.jsonl       {"prompt": [Msg], "chosen": [Msg], "rejected": [Msg]}
  sat_data.jsonl          {"prompt": [Msg], "chosen": [Msg]}
Pairs handed to TRL use its conversational preference format
(huggingface.co/docs/trl/dataset_formats): prompt/chosen/rejected lists of {role, content}.
"""

import json
import os
import tempfile

ROLES = ("system", "user", "assistant")

# gen-drift.py's instruction line, verbatim (drift-paper.md section 1.3).
GUIDE = "Based on the user's latest feedback, please provide an improved response that addresses their concerns."
ASSISTANT_MARKER = "Assistant: "


# ---------------------------------------------------------------------------------- files


def read_jsonl(path):
    """The rows of a JSONL file (blank lines skipped)."""
    rows = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip() == "":
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}:{number}: not JSON ({error.msg})") from error
    return rows


def write_jsonl_atomic(path, rows):
    """Writes rows to a temp file beside `path` and renames it into place when complete."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            for row in rows:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.remove(temp)
        raise


def write_json_atomic(path, value):
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump(value, out, indent=2, ensure_ascii=False)
        out.write("\n")
    os.replace(temp, path)


# -------------------------------------------------------------------------------- schemas


def _message_errors(value, where, role=None):
    if not isinstance(value, dict):
        return [f"{where}: not an object"]
    errors = []
    if value.get("role") not in ROLES:
        errors.append(f"{where}.role: {value.get('role')!r} is not one of {', '.join(ROLES)}")
    elif role is not None and value.get("role") != role:
        errors.append(f"{where}.role: {value.get('role')!r}, expected {role!r}")
    if not isinstance(value.get("content"), str):
        errors.append(f"{where}.content: not a string")
    return errors


def _messages_errors(value, where, length=None, role=None):
    if not isinstance(value, list):
        return [f"{where}: not a list of messages"]
    if length is not None and len(value) != length:
        return [f"{where}: {len(value)} messages, expected {length}"]
    if length is None and len(value) == 0:
        return [f"{where}: empty"]
    errors = []
    for index, message in enumerate(value):
        errors.extend(_message_errors(message, f"{where}[{index}]", role))
    return errors


def dsat_row_errors(row):
    """Problems of one dsat_data.jsonl row (empty when it is valid)."""
    if not isinstance(row, dict):
        return ["not an object"]
    return (
        _messages_errors(row.get("prompt"), "prompt")
        + _messages_errors(row.get("rejected"), "rejected", 1, "assistant")
        + _message_errors(row.get("user_preference"), "user_preference", "user")
    )


def preference_row_errors(row):
    """Problems of one TRL conversational preference row (seed pairs, built pairs)."""
    if not isinstance(row, dict):
        return ["not an object"]
    return (
        _messages_errors(row.get("prompt"), "prompt")
        + _messages_errors(row.get("chosen"), "chosen", 1, "assistant")
        + _messages_errors(row.get("rejected"), "rejected", 1, "assistant")
    )


def sat_row_errors(row):
    """Problems of one sat_data.jsonl row."""
    if not isinstance(row, dict):
        return ["not an object"]
    return _messages_errors(row.get("prompt"), "prompt") + _messages_errors(row.get("chosen"), "chosen", 1, "assistant")


def validate_file(path, check, required=True, limit=20):
    """(rows, errors) of a JSONL file checked row by row; a missing optional file has no rows."""
    if not os.path.exists(path):
        return [], ([f"{path}: missing"] if required else [])
    try:
        rows = read_jsonl(path)
    except ValueError as error:
        return [], [str(error)]
    errors = []
    for number, row in enumerate(rows, start=1):
        for problem in check(row):
            if len(errors) < limit:
                errors.append(f"{path}:{number}: {problem}")
    return rows, errors


# ------------------------------------------------------------------------- prompts (1.3)


def flatten_context(messages):
    """gen-drift.py's plain-text conversation: the first system message, then User:/Assistant: lines.

    No chat template is applied (drift-paper.md section 1.3): the text goes straight to the tokenizer.
    """
    text = ""
    system = next((message for message in messages if message["role"] == "system"), None)
    if system is not None:
        text += f"{system['content']}\n\n"
    for message in messages:
        if message["role"] == "user":
            text += f"User: {message['content']}\n"
        elif message["role"] == "assistant":
            text += f"Assistant: {message['content']}\n"
    return text


def guided_prompt(record):
    """The guided prompt of gen-drift.py: context, the DSAT response, the user's feedback, the instruction."""
    return (
        flatten_context(record["prompt"])
        + f"Assistant: {record['rejected'][0]['content']}\n"
        + f"User: {record['user_preference']['content']}\n"
        + f"System: {GUIDE}\n"
        + ASSISTANT_MARKER
    )


def plain_prompt(messages):
    """The unguided prompt (SPIN's samples; DRIFT's Unguided ablation): the context only."""
    return flatten_context(messages) + ASSISTANT_MARKER


def extract_response(decoded):
    """gen-drift.py's post-processing: the text after the last "Assistant: " of prompt+completion, stripped."""
    index = decoded.rfind(ASSISTANT_MARKER)
    return (decoded[index + len(ASSISTANT_MARKER) :] if index >= 0 else decoded).strip()


# ---------------------------------------------------------------------------------- pairs


def test_count(pairs, test_size, test_fraction):
    """Pairs held out: the first `test_size` (gen-drift.py's --test_size), at most test_fraction of them."""
    return max(0, min(test_size, int(pairs * test_fraction)))


def assistant(content):
    return [{"role": "assistant", "content": content}]


def pick(candidates, selection):
    """One of several samples for the same prompt: the first, the longest or the shortest."""
    if selection == "longest":
        return max(candidates, key=lambda item: len(item["completion"]))
    if selection == "shortest":
        return min(candidates, key=lambda item: len(item["completion"]))
    if selection == "judge-best":
        return max(candidates, key=lambda item: item["score"] if item.get("score") is not None else float("-inf"))
    return candidates[0]


def build_pairs(method, iteration, generations, dsat, sat, ids, selection):
    """The preference pairs of one iteration from its generations (rows of generations.jsonl).

    drift:   chosen = the policy's sample from the guided prompt, rejected = the logged DSAT response.
    spin:    chosen = the logged SAT response, rejected = the policy's sample from the plain context.
    iterdpo: chosen / rejected = the best / worst candidate by the judge's score (ties: skipped).
    """
    by_source = {}
    for row in generations:
        by_source.setdefault(row["source_index"], []).append(row)
    pairs = []
    if method in ("drift", "iterdpo"):
        for index, record in enumerate(dsat):
            candidates = by_source.get(index, [])
            if not candidates:
                continue
            source_id = ids["dsat"][index] if index < len(ids.get("dsat", [])) else f"dsat-{index}"
            if method == "drift":
                chosen = pick(candidates, selection)["completion"]
                rejected = record["rejected"][0]["content"]
            else:
                scored = [item for item in candidates if item.get("score") is not None]
                if len(scored) < 2:
                    continue
                best = max(scored, key=lambda item: item["score"])
                worst = min(scored, key=lambda item: item["score"])
                if best["score"] == worst["score"]:
                    continue
                chosen, rejected = best["completion"], worst["completion"]
            pairs.append(
                {
                    "id": f"iter{iteration}-{len(pairs)}",
                    "source_id": source_id,
                    "prompt": record["prompt"],
                    "chosen": assistant(chosen),
                    "rejected": assistant(rejected),
                }
            )
    elif method == "spin":
        for index, record in enumerate(sat):
            candidates = by_source.get(index, [])
            if not candidates:
                continue
            source_id = ids["sat"][index] if index < len(ids.get("sat", [])) else f"sat-{index}"
            pairs.append(
                {
                    "id": f"iter{iteration}-{len(pairs)}",
                    "source_id": source_id,
                    "prompt": record["prompt"],
                    "chosen": record["chosen"],
                    "rejected": assistant(pick(candidates, selection)["completion"]),
                }
            )
    else:
        raise ValueError(f"no pairs to build for method {method!r}")
    return pairs
