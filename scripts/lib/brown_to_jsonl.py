"""Brown Corpus (tagged, one file per document) -> JSONL of plain text, for scripts/fetch-corpus.

Each token is word/tag; the tag is what follows the last '/'. Sentences are lines (tab-indented), separated by
blank lines. Quotes `` and '' become ", and tokens are joined with spaces except before closing punctuation
and after opening punctuation.
"""
import json
import os
import re
import sys

NO_SPACE_BEFORE = {".", ",", ";", ":", "?", "!", ")", "'", "'s", "n't"}
NO_SPACE_AFTER = {"(", "$"}
DOC_NAME = re.compile(r"^c([a-r])(\d\d)$")


def detag(token):
    word = token.rsplit("/", 1)[0] if "/" in token else token
    return '"' if word in ("``", "''") else word


def sentence(line):
    out = ""
    quote_open = False
    prev = None
    for tok in line.split():
        w = detag(tok)
        if w == '"':
            quote_open = not quote_open
            glue = "" if (out == "" or not quote_open) else " "
            out += glue + w
            prev = w if quote_open else None
            continue
        if out == "" or w in NO_SPACE_BEFORE or prev in NO_SPACE_AFTER or prev == '"':
            out += w
        else:
            out += " " + w
        prev = w
    return out


def main(src, dst):
    names = sorted(n for n in os.listdir(src) if DOC_NAME.match(n))
    if len(names) != 500:
        sys.exit(f"brown_to_jsonl: expected 500 documents (ca01..cr09) in {src}, found {len(names)}")
    with open(dst, "w", encoding="utf-8") as out:
        for name in names:
            with open(os.path.join(src, name), encoding="utf-8") as f:
                lines = [sentence(l) for l in f if l.strip()]
            text = "\n".join(l for l in lines if l)
            out.write(json.dumps({"id": name, "category": DOC_NAME.match(name).group(1), "text": text},
                                 ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
