#!/usr/bin/env python3
"""Fails when a relative Markdown link, or a repo path that a script names, is broken.

Markdown: every `*.md` file outside target/, runs/, .git/ and hidden folders. Each relative
link or image `[text](path)`, `[text](path#anchor)`, `[text](#anchor)` and reference definition
`[name]: path` outside fenced code blocks and inline code must name an existing file or folder;
an anchor into a `.md` file must match one of its headings under GitHub's slug rule (the heading's
rendered text, lowercased, punctuation other than `-` and `_` removed, each space a `-`, `-1`,
`-2`, ... appended to repeats). http(s)://, mailto: and other schemes are not checked.

Scripts: every path in `scripts/*.sh` and `scripts/*.py` that starts with one of the repo's
top-level folders (PREFIXES) and holds no shell variable or glob (`$ * { < ?`) must exist, unless
the script writes it: paths after `--out`, `>`, `mkdir`, `tee`, `cp`/`mv` targets, values of
output variables (`OUT=`, `TABLE=`, a variable later written to), anything under or above such a
path, and Python paths on a line that writes a file are skipped.

Run by .ci/run; exits 1 listing each broken link as `file:line: link -> reason`.
"""
import os
import re
import sys
import unicodedata
from urllib.parse import unquote

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SKIP_DIRS = {"target", "runs", "node_modules", "__pycache__"}
PREFIXES = ("crates/", "search-spaces/", "latency-tables/", "configs/", "reports/", "scripts/",
            "python/", "docs/")

# ---------------------------------------------------------------------------------------------
# Markdown


def markdown_files():
    for dirpath, dirnames, filenames in os.walk(ROOT):
        rel = os.path.relpath(dirpath, ROOT)
        dirnames[:] = sorted(d for d in dirnames
                             if not d.startswith(".") and not (rel == "." and d in SKIP_DIRS)
                             and d not in ("node_modules", "__pycache__"))
        for name in sorted(filenames):
            if name.endswith(".md"):
                yield os.path.join(dirpath, name)


FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def code_free_lines(text, keep_inline_code=False):
    """(line number, line) outside fenced code blocks, with inline code spans blanked unless
    `keep_inline_code` (heading text needs it)."""
    fence = None
    for number, line in enumerate(text.split("\n"), 1):
        m = FENCE.match(line)
        if fence is None:
            if m:
                fence = m.group(1)
                continue
        else:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) \
                    and not line.strip()[len(m.group(1)):].strip():
                fence = None
            continue
        yield number, line if keep_inline_code else blank_inline_code(line)


def blank_inline_code(line):
    out, i = [], 0
    while i < len(line):
        if line[i] == "`":
            j = i
            while j < len(line) and line[j] == "`":
                j += 1
            ticks = line[i:j]
            end = line.find(ticks, j)
            if end < 0:
                out.append(line[i:])
                break
            out.append(" " * (end + len(ticks) - i))
            i = end + len(ticks)
        else:
            out.append(line[i])
            i += 1
    return "".join(out)


# [text](target "title") with no brackets inside text; images match the same way.
INLINE_LINK = re.compile(r"\[([^\[\]]*)\]\(\s*(<[^>]*>|[^()\s]*(?:\([^()\s]*\)[^()\s]*)*)"
                         r"(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)")
REF_DEF = re.compile(r"^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)")


def links_in_line(line):
    """Link targets of one line; nested `[![alt](img)](link)` yields both."""
    targets = []
    m = REF_DEF.match(line)
    if m:
        targets.append(m.group(1))
    while True:
        found = False
        for m in INLINE_LINK.finditer(line):
            targets.append(m.group(2))
            found = True
        if not found:
            break
        # replace each match by its text so an enclosing link becomes matchable
        line = INLINE_LINK.sub(lambda m: m.group(1), line)
    return [t[1:-1] if t.startswith("<") and t.endswith(">") else t for t in targets]


def heading_texts(text):
    headings, previous = [], None
    for _, line in code_free_lines(text, keep_inline_code=True):
        m = re.match(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*$", line)
        if m:
            content = re.sub(r"(?:^|[ \t]+)#+[ \t]*$", "", m.group(2) or "")
            headings.append(content)
            previous = None
            continue
        if previous is not None and previous.strip() and re.match(r"^ {0,3}(=+|-+)[ \t]*$", line) \
                and not re.match(r"^ {0,3}([-*+]|\d+[.)])\s", previous) \
                and not previous.lstrip().startswith(("|", ">")):
            headings.append(previous.strip())
            previous = None
            continue
        previous = line
    return headings


def rendered(heading):
    """The plain text GitHub renders for a heading's inline Markdown."""
    text = re.sub(r"!\[([^\]]*)\]\([^)]*\)", r"\1", heading)        # images -> alt
    for _ in range(3):
        text = re.sub(r"\[([^\[\]]*)\]\([^()]*(?:\([^()]*\)[^()]*)*\)", r"\1", text)  # links
    text = re.sub(r"<[^>]+>", "", text)                               # html tags
    text = text.replace("`", "")
    text = re.sub(r"(\*\*|__|\*|~~)", "", text)
    return text


def slug(heading):
    out = []
    for ch in rendered(heading).strip().lower():
        if ch == " ":
            out.append("-")
        elif ch == "-" or ch == "_":
            out.append(ch)
        elif unicodedata.category(ch)[0] in "LMN":
            out.append(ch)
    return "".join(out)


_anchor_cache = {}


def anchors(path):
    if path not in _anchor_cache:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        seen, result = {}, set()
        for heading in heading_texts(text):
            base = slug(heading)
            n = seen.get(base, 0)
            result.add(base if n == 0 else f"{base}-{n}")
            seen[base] = n + 1
        _anchor_cache[path] = result
    return _anchor_cache[path]


SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def check_markdown(problems):
    checked = 0
    for path in markdown_files():
        rel = os.path.relpath(path, ROOT)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for number, line in code_free_lines(text):
            for target in links_in_line(line):
                if not target or SCHEME.match(target) or target.startswith("//"):
                    continue
                checked += 1
                file_part, _, anchor = target.partition("#")
                file_part = unquote(file_part.split("?", 1)[0])
                if file_part:
                    base = ROOT if file_part.startswith("/") else os.path.dirname(path)
                    resolved = os.path.normpath(os.path.join(base, file_part.lstrip("/")))
                    if os.path.relpath(resolved, ROOT).startswith(".."):
                        problems.append(f"{rel}:{number}: {target} -> "
                                        "points outside the repository")
                        continue
                    if not os.path.exists(resolved):
                        problems.append(f"{rel}:{number}: {target} -> no such file or folder")
                        continue
                else:
                    resolved = path
                if anchor and resolved.endswith(".md") and os.path.isfile(resolved):
                    if unquote(anchor).lower() not in anchors(resolved):
                        where = ("this file" if resolved == path
                                 else os.path.relpath(resolved, ROOT))
                        problems.append(f"{rel}:{number}: {target} -> no heading "
                                        f"#{anchor} in {where}")
    return checked


# ---------------------------------------------------------------------------------------------
# Paths named by scripts

PATH_TOKEN = re.compile(r"(?<![A-Za-z0-9_./$~:-])((?:" + "|".join(re.escape(p) for p in PREFIXES)
                        + r")[^\s\"'`;()|&,>=]*)")
# Text right before a path that makes it something the script writes.
OUTPUT_BEFORE = re.compile(r"(--out|--bundle|--scaling-check|--[a-z-]*out[a-z-]*|>>?"
                           r"|\bmkdir(\s+-p)?|\btee(\s+-a)?"
                           r"|\b[A-Za-z_]*(OUT|TABLE|DIR|DEST|LOG)[A-Za-z_]*=)"
                           r"\s*[\"']?$")
WRITING_LINE_SH = re.compile(r"\b(cp|mv|ln|rm|touch|rsync|install|sed\s+-i)\b|>")
WRITING_LINE_PY = re.compile(r"open\([^)]*[\"'][wax]b?\+?[\"']|\.write_|\bwrite\(|mkdir|makedirs"
                             r"|save|dump|\bOUT\b|\bout\b|_OUT\b|_DIR\b")
ASSIGN = re.compile(r"^\s*(?:export\s+|local\s+|readonly\s+)?([A-Za-z_][A-Za-z0-9_]*)=")


def clean(token):
    """A path token without the sentence punctuation that may follow it."""
    return token.rstrip(".:;,]}")


def script_paths(problems):
    checked = 0
    folder = os.path.join(ROOT, "scripts")
    for name in sorted(os.listdir(folder)):
        if not (name.endswith(".sh") or name.endswith(".py")):
            continue
        path = os.path.join(folder, name)
        rel = os.path.relpath(path, ROOT)
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
        is_sh = name.endswith(".sh")
        # 1. variables the script writes to
        written_vars = {"OUT", "TABLE"}
        for line in lines:
            for m in re.finditer(r"(--out|--bundle|--[a-z-]*out[a-z-]*|>>?|\bmkdir(?:\s+-p)?"
                                 r"|\btee(?:\s+-a)?|\bcp\b.*|\bmv\b.*)"
                                 r"\s*[\"']?\$\{?([A-Za-z_][A-Za-z0-9_]*)", line):
                written_vars.add(m.group(2))
        # 2. output paths: after an output marker, or the value of a written variable
        outputs = set()
        candidates = []
        for number, line in enumerate(lines, 1):
            assign = ASSIGN.match(line)
            for m in PATH_TOKEN.finditer(line):
                token = clean(m.group(1))
                before = line[:m.start()]
                is_output = bool(OUTPUT_BEFORE.search(before))
                if assign and before.strip() == assign.group(0).strip() and \
                        (assign.group(1) in written_vars or not is_sh):
                    is_output = True
                if is_output:
                    outputs.add(token.rstrip("/"))
                candidates.append((number, line, token, is_output))
        # 3. check what is left
        for number, line, token, is_output in candidates:
            if is_output or any(c in token for c in "$*{<?["):
                continue
            bare = token.rstrip("/")
            if any(bare == o or bare.startswith(o + "/") or o.startswith(bare + "/")
                   for o in outputs):
                continue
            code = line.split("#", 1)[0] if is_sh else line
            if token in code and (WRITING_LINE_SH if is_sh else WRITING_LINE_PY).search(code):
                continue
            checked += 1
            if not os.path.exists(os.path.join(ROOT, bare)):
                problems.append(f"{rel}:{number}: {token} -> no such file or folder")
    return checked


def main():
    problems = []
    links = check_markdown(problems)
    paths = script_paths(problems)
    for problem in problems:
        print(problem)
    print(f"check_links: {links} Markdown links and {paths} script paths checked, "
          f"{len(problems)} broken", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
