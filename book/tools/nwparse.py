"""nwparse: read chapters through noweb's own front end.

Every tool that needs to know which chunks a chapter defines and uses
(mktangle, nwcheck) reads them here, from the output of noweb's `markup`,
so they see exactly what notangle and noweave see.
"""
import os, re, subprocess, sys

MARKUP = "/usr/lib/noweb/markup"

# A root chunk that names a file: no spaces, and a path-like name.
FILE_ROOT = re.compile(r"^[A-Za-z0-9_.+-]+(/[A-Za-z0-9_.+-]+)*$")


class Chunk:
    """One definition of a chunk (a chunk may be defined in pieces)."""
    def __init__(self, name, chapter, line):
        self.name, self.chapter, self.line = name, chapter, line
        self.uses = []            # (name, line) of every <<use>> inside


class Book:
    """All chunk definitions and uses across the chapters, in order."""
    def __init__(self, chapters):
        self.chapters = list(chapters)
        self.pieces = []          # every Chunk, in book order
        self.prose_uses = []      # [[<<name>>]] in prose: (name, chapter, line)
        for ch in self.chapters:
            self._read(ch)
        self.defined = {}
        for p in self.pieces:
            self.defined.setdefault(p.name, []).append(p)

    def _read(self, chapter):
        if not os.access(MARKUP, os.X_OK):
            sys.exit("noweb's markup not found: run `make deps`")
        out = subprocess.run([MARKUP, chapter], capture_output=True,
                             text=True)
        if out.returncode != 0:
            sys.exit(f"{chapter}: markup failed:\n{out.stderr}")
        line, cur, kind = 1, None, None
        for raw in out.stdout.splitlines():
            tag, _, arg = raw.partition(" ")
            if tag == "@begin":
                kind = arg.split()[0]
            elif tag == "@defn":
                cur = Chunk(arg, chapter, line)
                self.pieces.append(cur)
            elif tag == "@use":
                if kind == "code" and cur is not None:
                    cur.uses.append((arg, line))
                else:
                    self.prose_uses.append((arg, chapter, line))
            elif tag == "@nl":
                line += 1
            elif tag == "@line":
                line = int(arg)
            elif tag == "@end":
                if kind == "code":
                    cur = None
                kind = None

    def used_names(self):
        names = {u for p in self.pieces for u, _ in p.uses}
        return names | {u for u, _, _ in self.prose_uses}

    def roots(self):
        """Chunks defined but used by no other chunk, in book order."""
        used = {u for p in self.pieces for u, _ in p.uses}
        seen, out = set(), []
        for p in self.pieces:
            if p.name not in used and p.name not in seen:
                seen.add(p.name)
                out.append(p.name)
        return out

    def file_roots(self):
        return [r for r in self.roots() if FILE_ROOT.match(r)]

    def feeders(self, root):
        """The chapters (in book order) whose chunks reach file `root`."""
        todo, reach = [root], set()
        while todo:
            name = todo.pop()
            if name in reach:
                continue
            reach.add(name)
            for p in self.defined.get(name, []):
                todo.extend(u for u, _ in p.uses)
        chs = {p.chapter for n in reach for p in self.defined.get(n, [])}
        return [c for c in self.chapters if c in chs]


def chapter_list(args):
    """The chapter files named on the command line, in book order."""
    return sorted(a for a in args if a.endswith(".nw"))
